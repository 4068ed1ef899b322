# test/lib/expect.sh: the assertion the check scripts share; sourced.  A
# script that sources it asserts with expect and ends with `exit $fail`: a
# failed expectation is reported and remembered without stopping the script,
# so that one run shows every failure, and the exit status still fails it.
fail=0

# expect WHAT WANT GOT: "ok: WHAT" when GOT is WANT; otherwise a FAIL line
# showing both, and fail=1
expect() {
  if [ "$2" = "$3" ]; then
    echo "ok: $1"
  else
    echo "FAIL: $1 (expected '$2', got '$3')"; fail=1
  fi
}
