#!/usr/bin/env bash
# The build matrix of `make test`: every tests/test_*.c is compiled in each configuration below
# and run; the last line adds everything up as "N passed, N failed[, N skipped]".
# Usage: tests/matrix.sh [config...]   (default: all; e.g. `tests/matrix.sh c99` while developing)
set -u
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
CXX=${CXX:-g++}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
WARN="-Wall -Wextra -Werror -pedantic"
ALL_CONFIGS="c99 cxx nosimd noomp avx2 asan neon"
configs=${*:-$ALL_CONFIGS}
tests=$(ls tests/test_*.c 2>/dev/null)
total_p=0; total_f=0; total_s=0
summary=""

flags_of() {
  case "$1" in
    c99)    echo "$CC -std=c99 -O2 -march=native -fopenmp $WARN" ;;
    cxx)    echo "$CXX -x c++ -std=c++11 -O2 -march=native -fopenmp $WARN" ;;
    nosimd) echo "$CC -std=c99 -O2 -march=native -fopenmp -DLBRX_NO_SIMD $WARN" ;;
    noomp)  echo "$CC -std=c99 -O2 -march=native -Wno-unknown-pragmas $WARN" ;;
    avx2)   echo "$CC -std=c99 -O2 -mavx2 -mfma -mf16c -fopenmp $WARN" ;;
    asan)   echo "$CC -std=c99 -O1 -g -march=native -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer $WARN" ;;
    neon)   echo "aarch64-linux-gnu-gcc -std=c99 -O2 -march=armv8.2-a+dotprod+fp16 -static -fopenmp $WARN" ;;
    *) return 1 ;;
  esac
}

for cfg in $configs; do
  cc=$(flags_of "$cfg") || { echo "unknown config $cfg" >&2; exit 2; }
  launch=""; slow=""
  if [ "$cfg" = neon ]; then
    if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
      echo "== neon: SKIPPED (install gcc-aarch64-linux-gnu and qemu-user to run the NEON build under qemu)"
      total_s=$((total_s + 1)); summary="$summary\n  neon: skipped (no cross compiler or qemu)"; continue
    fi
    launch="qemu-aarch64"; slow=1
  fi
  [ "$cfg" = asan ] && slow=1
  out=build/test-$cfg; mkdir -p "$out"
  echo "== $cfg: $cc"
  # compile in parallel; a compile error counts as a failure of that test file
  printf '%s\n' $tests | xargs -P "$JOBS" -I{} sh -c \
    'b=$(basename {} .c); '"$cc"' -I. {} -o '"$out"'/$b -lm -lpthread 2>'"$out"'/$b.log || { cat '"$out"'/$b.log >&2; rm -f '"$out"'/$b; }'
  bins=""; compile_fail=0
  for t in $tests; do
    b=$out/$(basename "$t" .c)
    if [ -x "$b" ]; then bins="$bins $b"; else echo "COMPILE FAILED $t ($cfg)" >&2; compile_fail=$((compile_fail + 1)); fi
  done
  res=$(LT_LAUNCH="$launch" LT_SLOW="$slow" LT_TMP="$out" ASAN_OPTIONS=detect_leaks=1 bash tests/run.sh $bins | tail -n 1)
  echo "   $cfg: $res"
  p=$(echo "$res" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); f=$(echo "$res" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
  s=$(echo "$res" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
  total_p=$((total_p + ${p:-0})); total_f=$((total_f + ${f:-1} + compile_fail)); total_s=$((total_s + ${s:-0}))
  summary="$summary\n  $cfg: $res$( [ $compile_fail -gt 0 ] && echo ", $compile_fail compile failures")"
done
printf "matrix:$summary\n"
if [ "$total_s" -gt 0 ]; then echo "$total_p passed, $total_f failed, $total_s skipped"
else echo "$total_p passed, $total_f failed"; fi
[ "$total_f" -eq 0 ]
