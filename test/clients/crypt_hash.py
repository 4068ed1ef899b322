"""crypt(3) hashes for the client checks, as an application makes them.

Python's crypt module where it is there; from Python 3.13 (Debian 13) on,
which removed it, libcrypt's crypt_gensalt(3) and crypt(3) called directly,
as the module did.
"""
try:
    import crypt as _crypt
except ImportError:
    _crypt = None
    import ctypes
    _lib = ctypes.CDLL("libcrypt.so.1")
    _lib.crypt_gensalt.restype = ctypes.c_char_p
    _lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    _lib.crypt.restype = ctypes.c_char_p
    _lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def crypt_hash(pw, scheme, cost=0):
    """A hash of pw with a new random salt, in the $scheme$ format ("2b",
    "5" or "6"); cost is the bcrypt cost (0: the library's default)."""
    if _crypt is not None:
        method = {"2b": _crypt.METHOD_BLOWFISH, "5": _crypt.METHOD_SHA256,
                  "6": _crypt.METHOD_SHA512}[scheme]
        return _crypt.crypt(pw, _crypt.mksalt(method, rounds=2 ** cost if cost else None))
    salt = _lib.crypt_gensalt(("$%s$" % scheme).encode(), cost, None, 0)
    if salt is None:
        raise OSError("crypt_gensalt failed for $%s$" % scheme)
    out = _lib.crypt(pw.encode(), salt)
    if out is None or out.startswith(b"*"):
        raise OSError("crypt failed for $%s$" % scheme)
    return out.decode()
