#!/usr/bin/env python3
# Format-faithful writers for formats whose framework is not packaged here.
# Each follows the framework's published hasher code step by step, with the
# real primitives (hashlib, bcrypt, argon2-cffi).
import base64, hashlib, os, secrets, string, struct, sys
import bcrypt
from argon2.low_level import hash_secret, Type

def salt_str(n=16):
    a = string.ascii_letters + string.digits
    return "".join(secrets.choice(a) for _ in range(n))

def werkzeug_scrypt(pw, n=2**14, r=8, p=1):
    # Werkzeug 3 security.py _hash_internal("scrypt"): hashlib.scrypt, dklen 64, hex
    salt = salt_str(16)
    h = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p).hex()
    return f"scrypt:{n}:{r}:{p}${salt}${h}"

def django_scrypt(pw, n=2**14, r=8, p=1):
    # Django 4.0+ ScryptPasswordHasher.encode: dklen 64, base64
    salt = salt_str(22)
    h = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=64 * 1024 ** 2 + 128 * n * r * p, dklen=64)
    return "%s$%d$%s$%d$%d$%s" % ("scrypt", n, salt, r, p, base64.b64encode(h).decode().strip())

def aspnet_v2(pw):
    # ASP.NET Core Identity PasswordHasher, IdentityV2: 0x00 | salt16 | PBKDF2-HMAC-SHA1(1000) 32
    salt = os.urandom(16)
    sub = hashlib.pbkdf2_hmac("sha1", pw.encode(), salt, 1000, 32)
    return base64.b64encode(b"\x00" + salt + sub).decode()

def aspnet_v3(pw, prf=2, iterations=100000):
    # IdentityV3: 0x01 | prf | iter | saltlen (big-endian uint32) | salt | subkey(32)
    salt = os.urandom(16)
    name = {0: "sha1", 1: "sha256", 2: "sha512"}[prf]
    sub = hashlib.pbkdf2_hmac(name, pw.encode(), salt, iterations, 32)
    return base64.b64encode(b"\x01" + struct.pack(">III", prf, iterations, 16) + salt + sub).decode()

def spring_pbkdf2(pw, v58=False):
    # Pbkdf2PasswordEncoder: hex(salt | PBKDF2(pw, salt | secret(""), iterations, 256 bits))
    if v58:
        salt = os.urandom(16); dk = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 310000, 32)
        return "{pbkdf2@SpringSecurity_v5_8}" + (salt + dk).hex()
    salt = os.urandom(8); dk = hashlib.pbkdf2_hmac("sha1", pw.encode(), salt, 185000, 32)
    return "{pbkdf2}" + (salt + dk).hex()

def spring_bcrypt(pw, cost=5):
    # BCryptPasswordEncoder writes $2a$ by default
    return "{bcrypt}" + bcrypt.hashpw(pw.encode(), bcrypt.gensalt(cost, prefix=b"2a")).decode()

def spring_argon2(pw, m=16384, t=2, p=1):
    # Argon2PasswordEncoder.defaultsForSpringSecurity_v5_8: salt 16, hash 32, p 1, m 16384, t 2
    return "{argon2}" + hash_secret(pw.encode(), os.urandom(16), time_cost=t, memory_cost=m,
                                    parallelism=p, hash_len=32, type=Type.ID).decode()

if __name__ == "__main__":
    pw = sys.argv[1]
    print("Werkzeug 3 scrypt (format-faithful)|" + werkzeug_scrypt(pw, 2**10))
    print("Django 4 scrypt (format-faithful)|" + django_scrypt(pw, 2**10))
    print("ASP.NET Identity v2 (format-faithful)|" + aspnet_v2(pw))
    print("ASP.NET Identity v3 (format-faithful)|" + aspnet_v3(pw, 2, 1000))
    print("ASP.NET Identity v3 SHA-256 (format-faithful)|" + aspnet_v3(pw, 1, 1000))
    print("Spring {pbkdf2} (format-faithful)|" + spring_pbkdf2(pw))
    print("Spring {pbkdf2@SpringSecurity_v5_8} (format-faithful)|" + spring_pbkdf2(pw, True))
    print("Spring {bcrypt} (format-faithful)|" + spring_bcrypt(pw))
    print("Spring {argon2} (format-faithful)|" + spring_argon2(pw, 1024, 1))
