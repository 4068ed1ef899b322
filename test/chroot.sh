# test/chroot.sh: sourced by test/run.  A Debian chroot per PostgreSQL major
# version that the host's Debian does not ship, built once with debootstrap
# from the mirror the host's apt already uses, cached, and entered through a
# private mount namespace so that its /proc, /dev and /dev/shm mounts vanish
# with the run (several runs may share one chroot at once).
#
#   chroot_ensure V     build (or find) the chroot for major V; sets CHROOT
#   chroot_run V CMD..  run CMD inside it as root, with the mounts in place

# The Debian suite that ships each major version.
declare -A CHROOT_SUITE=([17]=trixie [18]=sid)
CHROOT_CACHE=${ACCTSEC_CHROOT_CACHE:-/var/cache/acctsec-chroots}

# The packages inside: the host's list (test/run's PKGS) with this version's
# server, headers and server modules, less the fuzzers' clang (the fuzz targets do not touch
# the server and run on the host only), plus what a minbase system lacks.
chroot_packages() {
  local v=$1 p out
  out=(postgresql-$v postgresql-server-dev-$v)
  for p in "${PKGS[@]}"; do
    if [[ $p =~ ^postgresql-[0-9]+-(.+)$ ]]; then
      out+=("postgresql-$v-${BASH_REMATCH[1]}")     # a server module, for V
      continue
    fi
    case "$p" in
      postgresql-*|clang|clang-*|libclang-rt-*) ;;
      *) out+=("$p") ;;
    esac
  done
  echo "${out[@]}" ca-certificates tzdata util-linux
}

# The host's Debian mirror, read from its apt sources (deb822 .sources files
# or one-line sources.list entries): the first URI serving the host's own
# release (not -security, not -updates).
host_mirror() {
  local codename f
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v cn="$codename" '
      /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == cn) ok = 1 }
      END { if (uri != "" && ok) print uri }' "$f"
  done | head -n 1 | grep . && return 0
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v cn="$codename" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) == cn) { print $i; exit } } }' |
    grep .
}

# debootstrap, on the host
chroot_tools() {
  command -v debootstrap >/dev/null && return 0
  say "== installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } \
    || die "could not install debootstrap"
}

chroot_ensure() {
  local v=$1 suite=${CHROOT_SUITE[$1]:-} mirror key pkgs tmp
  [ -n "$suite" ] || die "no Debian suite known for PostgreSQL $v (known: ${!CHROOT_SUITE[*]})"
  [ "$(id -u)" -eq 0 ] || die "building a chroot for PostgreSQL $v needs root"
  pkgs=$(chroot_packages "$v")
  # the key changes with the suite, the package list and this file's recipe
  key=$( { echo "$suite $pkgs"; declare -f chroot_build; } | sha256sum | cut -c1-12)
  CHROOT=$CHROOT_CACHE/pg$v-$suite-$key
  [ -f "$CHROOT/.acctsec-ready" ] && return 0
  chroot_tools
  mirror=$(host_mirror) || die "could not read the host's Debian mirror from its apt sources"
  mkdir -p "$CHROOT_CACHE"
  exec 9>"$CHROOT_CACHE/.lock-pg$v"
  flock 9
  if [ ! -f "$CHROOT/.acctsec-ready" ]; then
    # stale chroots of this version (an older recipe) go
    rm -rf "$CHROOT_CACHE"/pg$v-*
    tmp=$CHROOT.building
    rm -rf "$tmp"
    say "== building a $suite chroot for PostgreSQL $v (once; cached in $CHROOT_CACHE)"
    if ! chroot_build "$v" "$suite" "$mirror" "$tmp" "$pkgs" >"$CHROOT_CACHE/pg$v-build.log" 2>&1; then
      tail -n 30 "$CHROOT_CACHE/pg$v-build.log"
      rm -rf "$tmp"
      die "building the PostgreSQL $v chroot failed (log: $CHROOT_CACHE/pg$v-build.log)"
    fi
    touch "$tmp/.acctsec-ready"
    mv "$tmp" "$CHROOT"
  fi
  exec 9>&-
}

chroot_build() {
  local v=$1 suite=$2 mirror=$3 dir=$4 pkgs=$5
  set -e
  debootstrap --variant=minbase "$suite" "$dir" "$mirror"
  # sid's Release may be past its Valid-Until on a mirror snapshot
  echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99acctsec"
  # no daemon starts in the chroot, and no "main" cluster is created
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  mkdir -p "$dir/etc/postgresql-common"
  echo 'create_main_cluster = false' >"$dir/etc/postgresql-common/createcluster.conf"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  chroot_run_in "$dir" sh -c "
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $pkgs
    apt-get clean"
  set +e
}

# Run a command in chroot DIR inside a private mount namespace.
chroot_run_in() {
  local dir=$1; shift
  unshare --mount --propagation private -- sh -c '
    dir=$1; shift
    mount -t proc proc "$dir/proc"
    mount --bind /dev "$dir/dev"
    mount -t tmpfs -o mode=1777,size=1g shm "$dir/dev/shm"
    # the host'"'"'s name resolution and the certificate authorities it trusts
    # (npm reaches its registry through whatever the host does)
    for f in /etc/resolv.conf /etc/ssl/certs/ca-certificates.crt; do
      [ -f "$f" ] && [ -f "$dir$f" ] && mount --bind -o ro "$f" "$dir$f"
    done
    exec chroot "$dir" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 "$@"' sh "$dir" "$@"
}

chroot_run() {
  local v=$1; shift
  chroot_ensure "$v"
  chroot_run_in "$CHROOT" "$@"
}
