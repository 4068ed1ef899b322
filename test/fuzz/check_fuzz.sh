#!/usr/bin/env bash
# Build the libFuzzer targets over the OTP core (src/otp.c), the password
# hash reader (src/pwformat.c) and the WebAuthn core (src/webauthn.c), built
# outside the server with AddressSanitizer and UndefinedBehaviorSanitizer,
# and run each
# for a bounded time from its committed seeds.  Any crash, sanitizer report
# or violated property fails the check; the execution count of every target
# is printed.
#
#   FUZZ_SECONDS=600 bash test/fuzz/check_fuzz.sh          # longer runs
#   FUZZ_TARGETS="base32_decode" bash test/fuzz/check_fuzz.sh
#
# Build outputs and the growing corpora go to test/fuzz/build/ and
# test/fuzz/corpus-run/ (gitignored); the corpora are kept between runs, so
# repeated runs go deeper.  A crashing input is saved as
# test/fuzz/build/crash-<target>-*; replay it with
#   test/fuzz/build/fuzz_<target> test/fuzz/build/crash-<target>-...
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$HERE/build
CORPUS=$HERE/corpus-run
SECONDS_EACH=${FUZZ_SECONDS:-32}
TARGETS=${FUZZ_TARGETS:-"base32_decode base32_roundtrip normalize_code backup_code percent_encode hotp_truncate parse_algorithm pwformat webauthn_attestation webauthn_auth_data"}
CC=${CC_FUZZ:-clang}
command -v "$CC" >/dev/null || { echo "clang is not installed"; exit 1; }
mkdir -p "$BUILD" "$CORPUS"

FLAGS=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -Wall -Wextra -Werror -I"$REPO/src")
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

rc=0
total=0
for t in $TARGETS; do
  src=$HERE/fuzz_$t.c
  [ -f "$src" ] || { echo "no harness $src"; rc=1; continue; }
  [ -d "$HERE/seeds/$t" ] || { echo "no seeds for $t"; rc=1; continue; }
  if ! "$CC" "${FLAGS[@]}" -o "$BUILD/fuzz_$t" "$src" "$REPO/src/otp.c" "$REPO/src/pwformat.c" \
       "$REPO/src/webauthn.c" -lcbor -lcrypto -lsodium 2>"$BUILD/$t.build.log"; then
    echo "$t: build failed"; cat "$BUILD/$t.build.log"; rc=1; continue
  fi
  mkdir -p "$CORPUS/$t"
  log=$BUILD/$t.log
  (cd "$BUILD" && ./fuzz_$t -max_total_time="$SECONDS_EACH" -max_len=4096 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD/crash-$t-" "$CORPUS/$t" "$HERE/seeds/$t") >"$log" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
  corpus=$(ls "$CORPUS/$t" | wc -l)
  if [ $status -ne 0 ] || [ -z "$runs" ] || grep -qE 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:|property violated' "$log"; then
    echo "$t: FAILED (exit $status)"
    grep -E 'ERROR|runtime error|property violated|SUMMARY|Test unit written' "$log" | head -n 20
    rc=1
  else
    printf '%-18s %10s executions in %ss, %s, corpus %s\n' "$t" "$runs" "$SECONDS_EACH" "${cov:-cov: ?}" "$corpus"
    total=$((total + runs))
  fi
done
echo "total executions: $total"
exit $rc
