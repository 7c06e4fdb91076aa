#!/usr/bin/env bash
# Runs every test binary given on the command line (optionally through a launcher such as
# qemu-aarch64, set in $LT_LAUNCH), adds up their LT_RESULT lines and ends with
# "N passed, N failed[, N skipped]". Exits non-zero when anything failed or crashed.
set -u
passed=0; failed=0; skipped=0
for bin in "$@"; do
  t0=$SECONDS
  out=$(${LT_LAUNCH:-} "$bin" 2>/tmp/lbrx_test_err.$$); rc=$?
  # wine's connection to its server can drop under it ("wine client error: ... Connection reset
  # by peer", seen once in the mingw configuration, the test passing when run again): that says
  # nothing of the test, so a binary that stopped that way without a result line runs once more
  if ! printf '%s\n' "$out" | grep -q '^LT_RESULT' && grep -q '^wine client error' /tmp/lbrx_test_err.$$; then
    echo "   $(basename "$bin"): wine lost its server ($(grep -m1 '^wine client error' /tmp/lbrx_test_err.$$)); running it again" >&2
    out=$(${LT_LAUNCH:-} "$bin" 2>/tmp/lbrx_test_err.$$); rc=$?
  fi
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
