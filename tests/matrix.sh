#!/usr/bin/env bash
# The build matrix of `make test`: every tests/test_*.c is compiled in each configuration below
# and run; the last line adds everything up as "N passed, N failed[, N skipped]".
# Usage: tests/matrix.sh [config...]   (default: all; e.g. `tests/matrix.sh c99` while developing;
#        --list prints the configuration names)
#
#   c99          gcc -std=c99, -march=native, OpenMP
#   cxx          g++ -x c++ -std=c++11
#   clang-c11    clang -std=c11 with OpenMP (libomp)
#   clang-cxx17  clang++ -x c++ -std=c++17
#   nosimd       -DLBRX_NO_SIMD (the scalar code only)
#   noomp        without -fopenmp (pragmas ignored, one thread)
#   avx2         -mavx2 -mfma -mf16c, no AVX-512
#   dispatch     gcc -std=c99 without -march: the kernel sets chosen at run time (lbrx__kset); its
#                "kernel set NAME: results HASH" lines (test_ops) must equal the native builds' of
#                the same set (c99, avx2, nosimd), where their logs are newer than lbrx.h
#   nommap       -DLBRX_NO_MMAP (files are read into the heap)
#   m32          gcc -m32: 32-bit size_t and pointers (catches size_t/uint64_t mix-ups; files
#                past 4 GiB must be refused). Debian's gcc-multilib conflicts with the aarch64
#                cross compiler, so only gcc-12-multilib is installed and the kernel's asm/
#                headers are reached through a symlink in build/m32-include. Arithmetic in SSE
#                (-mfpmath=sse, as every x86 since 2001 can): the x87 unit's excess precision
#                (FLT_EVAL_METHOD 2) evaluates constants such as 1e-5f in long double, which is
#                not what this configuration is about.
#   asan         gcc -fsanitize=address,undefined (leak checking on)
#   tsan         clang -fsanitize=thread,undefined with OpenMP (clang's UBSan checks more than gcc's,
#                e.g. arithmetic on NULL); libomp's Archer tool (when found) tells TSan
#                about OpenMP's barriers, and the uninstrumented runtime itself is ignored
#   valgrind     memcheck (0 errors, 0 bytes definitely lost) of the storage and format tests only
#                (test_core, test_gguf, test_safetensors, test_hardening): valgrind is ~30x slower
#                and the kernels are covered by asan/tsan. Built with AVX2, not AVX-512, which
#                valgrind cannot decode.
#   mingw        x86_64-w64-mingw32-gcc, run under wine: the MapViewOfFile path and UTF-8 paths
#   neon         aarch64-linux-gnu-gcc (NEON, dot product, fp16), run under qemu-aarch64
#
# c99 and cxx build the tests as a user's program does (LBRX_IMPL: every public function extern).
# Every other configuration adds -DLBRX_STATIC, so that each test compiles only the functions it
# reaches (an extern function is compiled whether used or not): 2-3x less compile time, which is
# most of the matrix's time (asan: test_matmul 36 s -> 14 s of CPU). Behaviour is the same.
# A configuration whose tools are missing is skipped with a message (counted as skipped);
# .ci/run installs all of them. Configurations run $JOBS at a time (default: the core count),
# each compiling and running its tests in turn; each one's output is printed when it ends.
set -u
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
CXX=${CXX:-g++}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
WARN="-Wall -Wextra -Werror -pedantic"
ALL_CONFIGS="c99 cxx clang-c11 clang-cxx17 nosimd noomp avx2 dispatch nommap m32 asan tsan valgrind mingw neon"
if [ "${1:-}" = --list ]; then printf '%s\n' $ALL_CONFIGS; exit 0; fi
configs=${*:-$ALL_CONFIGS}
all_tests=$(ls tests/test_*.c 2>/dev/null)

flags_of() {
  case "$1" in
    c99)         echo "$CC -std=c99 -O2 -march=native -fopenmp $WARN" ;;
    cxx)         echo "$CXX -x c++ -std=c++11 -O2 -march=native -fopenmp $WARN" ;;
    clang-c11)   echo "clang -std=c11 -O2 -march=native -fopenmp $WARN" ;;
    clang-cxx17) echo "clang++ -x c++ -std=c++17 -O2 -march=native -fopenmp $WARN -Wno-deprecated" ;;
    nosimd)      echo "$CC -std=c99 -O2 -march=native -fopenmp -DLBRX_NO_SIMD $WARN" ;;
    noomp)       echo "$CC -std=c99 -O2 -march=native -Wno-unknown-pragmas $WARN" ;;
    avx2)        echo "$CC -std=c99 -O2 -mavx2 -mfma -mf16c -fopenmp $WARN" ;;
    dispatch)    echo "$CC -std=c99 -O2 -fopenmp $WARN" ;;
    nommap)      echo "$CC -std=c99 -O2 -march=native -fopenmp -DLBRX_NO_MMAP $WARN" ;;
    m32)         echo "$CC -m32 -isystem build/m32-include -std=c99 -O2 -march=native -mfpmath=sse -fopenmp $WARN" ;;
    asan)        echo "$CC -std=c99 -O1 -g -march=native -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer $WARN" ;;
    tsan)        echo "clang -std=c99 -O1 -g -march=native -fopenmp -fsanitize=thread,undefined -fno-sanitize-recover=undefined $WARN" ;;
    valgrind)    echo "$CC -std=c99 -O1 -g -mavx2 -mfma -mf16c -Wno-unknown-pragmas $WARN" ;;
    mingw)       echo "x86_64-w64-mingw32-gcc -std=c99 -O2 -march=native -fopenmp -static $WARN" ;;
    neon)        echo "aarch64-linux-gnu-gcc -std=c99 -O2 -march=armv8.2-a+dotprod+fp16 -static -fopenmp $WARN" ;;
    *) return 1 ;;
  esac
}

# Prints why a configuration cannot run here (missing tools), or nothing.
missing_tools() {
  local t
  case "$1" in
    clang-c11) command -v clang >/dev/null || echo "install clang and libomp-dev" ;;
    tsan) mkdir -p build/probe && printf 'int main(void){return 0;}\n' > build/probe/tsan.c
          clang -fopenmp -fsanitize=thread,undefined build/probe/tsan.c -o build/probe/tsan 2>/dev/null ||
              echo "install clang, libomp-dev and libclang-rt-dev (the sanitizer runtimes)" ;;
    clang-cxx17) command -v clang++ >/dev/null || echo "install clang and libomp-dev" ;;
    valgrind) command -v valgrind >/dev/null || echo "install valgrind" ;;
    mingw) { command -v x86_64-w64-mingw32-gcc >/dev/null && command -v wine >/dev/null; } ||
             echo "install mingw-w64 and wine" ;;
    neon) { command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; } ||
             echo "install gcc-aarch64-linux-gnu and qemu-user" ;;
    m32) mkdir -p build/m32-include && ln -sfn /usr/include/x86_64-linux-gnu/asm build/m32-include/asm
         printf '#include <errno.h>\n#include <omp.h>\nint main(void){return 0;}\n' > build/m32-include/probe.c
         $CC -m32 -isystem build/m32-include -fopenmp build/m32-include/probe.c -o build/m32-include/probe 2>/dev/null ||
             echo "install gcc-12-multilib (32-bit libc, libgcc and libgomp)" ;;
  esac
}

# The test files of a configuration (see the header comment for valgrind's subset).
tests_of() {
  local t
  case "$1" in
    valgrind) for t in $all_tests; do
                case "$t" in tests/test_core.c|tests/test_gguf.c|tests/test_safetensors.c|tests/test_hardening.c) echo "$t" ;; esac
              done ;;
    *) echo "$all_tests" ;;
  esac
}

# Compiles and runs one configuration; its log goes to build/test-$cfg/matrix.log and its result
# line ("N passed, N failed[, N skipped]" plus compile failures) to build/test-$cfg/result.
run_config() {
  local cfg=$1 cc launch="" slow="" out=build/test-$1 bins="" compile_fail=0 t b res why start=$SECONDS
  local -a envs=()
  cc=$(flags_of "$cfg")
  case "$cfg" in c99|cxx) ;; *) cc="$cc -DLBRX_STATIC" ;; esac
  mkdir -p "$out"; rm -f "$out/result"
  why=$(missing_tools "$cfg")
  if [ -n "$why" ]; then
    echo "== $cfg: SKIPPED ($why)" > "$out/matrix.log"
    echo "skipped ($why)" > "$out/result"; echo 0 > "$out/seconds"; return
  fi
  case "$cfg" in
    asan) slow=1; envs+=(ASAN_OPTIONS=detect_leaks=1) ;;
    tsan) slow=1; envs+=(TSAN_OPTIONS="ignore_noninstrumented_modules=1 halt_on_error=1" OMP_NUM_THREADS=4)
          t="$(dirname "$(dirname "$(clang -print-resource-dir)")")/../libarcher.so"
          [ -f "$t" ] && envs+=(OMP_TOOL_LIBRARIES="$t") ;;
    valgrind) slow=1; launch="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite" ;;
    mingw) launch="wine"; envs+=(WINEPREFIX="$PWD/build/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=")
           [ -d build/wine ] || env "${envs[@]}" wineboot -i >/dev/null 2>&1 ;;  # a quiet first start
    neon) launch="qemu-aarch64"; slow=1 ;;
  esac
  {
    echo "== $cfg: $cc"
    for t in $(tests_of "$cfg"); do
      b=$out/$(basename "$t" .c)
      rm -f "$b" "$b.exe"
      t0=$SECONDS
      if ! $cc -I. "$t" -o "$b" -lm -lpthread 2>"$b.log"; then
        cat "$b.log"; echo "COMPILE FAILED $t ($cfg)"; compile_fail=$((compile_fail + 1)); continue
      fi
      echo "   compiled $(basename "$t") in $((SECONDS - t0)) s"
      [ -f "$b.exe" ] && b=$b.exe
      bins="$bins $b"
    done
    env "${envs[@]}" LT_LAUNCH="$launch" LT_SLOW="$slow" LT_TMP="$out" bash tests/run.sh $bins > "$out/run.log" 2>&1
    [ "$cfg" = mingw ] && WINEPREFIX="$PWD/build/wine" wineserver -k 2>/dev/null
    res=$(tail -n 1 "$out/run.log")
    cat "$out/run.log"
    echo "   $cfg: $res"
  } > "$out/matrix.log" 2>&1
  [ "$compile_fail" -gt 0 ] && res="$res, $compile_fail compile failures"
  echo "$res" > "$out/result"
  echo "$((SECONDS - start))" > "$out/seconds"
}

for cfg in $configs; do flags_of "$cfg" >/dev/null || { echo "unknown config $cfg" >&2; exit 2; }; done
running=0
for cfg in $configs; do
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
  ( run_config "$cfg"; cat "build/test-$cfg/matrix.log" ) &
  running=$((running + 1))
done
wait

total_p=0; total_f=0; total_s=0; summary=""
for cfg in $configs; do
  res=$(cat "build/test-$cfg/result" 2>/dev/null || echo "0 passed, 1 failed (no result)")
  summary="$summary\n  $cfg: $res  [$(cat "build/test-$cfg/seconds" 2>/dev/null || echo ?) s]"
  case "$res" in skipped*) total_s=$((total_s + 1)); continue ;; esac
  p=$(echo "$res" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); f=$(echo "$res" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
  s=$(echo "$res" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p'); c=$(echo "$res" | sed -n 's/.* \([0-9]*\) compile failures.*/\1/p')
  total_p=$((total_p + ${p:-0})); total_f=$((total_f + ${f:-1} + ${c:-0})); total_s=$((total_s + ${s:-0}))
done
# Runtime dispatch: the bits of each kernel set the dispatch build ran must be the native build's
# (from this run or an earlier one, as CI runs c99 first, if its log is newer than lbrx.h).
case " $configs " in *" dispatch "*)
  for cfg in c99 avx2 nosimd; do
    [ "build/test-$cfg/run.log" -nt lbrx.h ] && [ -f build/test-dispatch/run.log ] || continue
    line=$(grep -m1 '^  kernel set ' "build/test-$cfg/run.log")
    [ -n "$line" ] || continue
    if ! grep -qxF "$line" build/test-dispatch/run.log; then
      echo "dispatch: the native $cfg build printed '${line# }', the dispatch build has no such line"
      total_f=$((total_f + 1))
    fi
  done ;;
esac
printf "matrix (configs, results, seconds each; $JOBS at a time, $SECONDS s in all):$summary\n"
if [ "$total_s" -gt 0 ]; then echo "$total_p passed, $total_f failed, $total_s skipped"
else echo "$total_p passed, $total_f failed"; fi
[ "$total_f" -eq 0 ]
