#!/usr/bin/env bash
# Runs every test binary given on the command line (optionally through a launcher such as
# qemu-aarch64, set in $LT_LAUNCH), adds up their LT_RESULT lines and ends with
# "N passed, N failed[, N skipped]". Exits non-zero when anything failed or crashed.
set -u
passed=0; failed=0; skipped=0
for bin in "$@"; do
  t0=$SECONDS
  out=$(${LT_LAUNCH:-} "$bin" 2>/tmp/lbrx_test_err.$$); rc=$?
  echo "   $(basename "$bin"): $((SECONDS - t0)) s" >&2
  line=$(printf '%s\n' "$out" | tr -d '\r' | grep '^LT_RESULT' | tail -n 1)  # \r: Windows text mode
  cat /tmp/lbrx_test_err.$$ >&2
  if [ -z "$line" ]; then
    echo "CRASH $bin (exit $rc, no result line)" >&2; failed=$((failed + 1)); continue
  fi
  set -- $line
  passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + $4))
  if [ "$rc" -ne 0 ] && [ "$3" -eq 0 ]; then echo "CRASH $bin (exit $rc)" >&2; failed=$((failed + 1)); fi
  shift $#
done
rm -f /tmp/lbrx_test_err.$$
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
