#!/usr/bin/env bash
# `make fuzz FUZZ_SECONDS=N`: builds every libFuzzer harness tests/fuzz_<target>.c with
# clang -fsanitize=fuzzer,address,undefined and runs each for N seconds (default 60), one after
# another (FUZZ_JOBS=2 runs two at a time; FUZZ_TARGETS="gguf json" picks some; FUZZ_TIMEOUT=S
# sets libFuzzer's per-input wall-clock timeout, default 10 s: raise it when the fuzzers run at a
# low priority on a busy machine, where a descheduled input would otherwise count as a hang).
#
# Corpus: build/fuzz/<target>/corpus (under $FUZZ_DIR instead of build/fuzz if set), kept between
# runs (so runs add up) and seeded on every run
# with tests/fuzz_regressions/<target>/ (every input that ever crashed, and seed-* inputs that
# reach paths no real file in ../shared does: a split GGUF set, MLX/AWQ/GPTQ weights), seeds that
# tests/fuzz_seeds.c writes with lbrx's writers (every dtype), and the real files of
# ../shared/data (or $LBRX_SHARED_DATA): .gguf files for gguf, .safetensors for safetensors,
# their JSON headers and the .json files for json, llama.cpp's tokenizer test strings for
# tokenizer. Nothing of it is committed but the
# regressions. Dictionaries: tests/fuzz_<target>.dict.
#
# Prints, per target, the executions, the edges covered (libFuzzer's "cov") and the corpus
# size; a crash, leak, timeout or out-of-memory input is left in build/fuzz/<target>/ and
# makes the script fail. Add such an input to tests/fuzz_regressions/<target>/ once fixed:
# `make test` replays that directory (tests/test_hardening.c). Reproduce one without libFuzzer:
#   cc -g -fsanitize=address,undefined -I. tests/fuzz_<target>.c tests/fuzz_main.c -o replay -lm
#   ./replay build/fuzz/<target>/crash-...
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
per_input=${FUZZ_TIMEOUT:-10}
shared=${LBRX_SHARED_DATA:-../shared/data}
targets=${FUZZ_TARGETS:-$(ls tests/fuzz_*.c | sed -n 's#^tests/fuzz_\(.*\)\.c$#\1#p' | grep -v -x -e main -e seeds)}
fz=${FUZZ_DIR:-build/fuzz}
mkdir -p "$fz"
printf '#include <stddef.h>\nint LLVMFuzzerTestOneInput(const unsigned char *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$fz/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$fz/probe.c" -o "$fz/probe" 2>/dev/null; then
  echo "fuzz: SKIPPED (install clang and libclang-rt-dev, which has libFuzzer)"; exit 0
fi

# Largest input libFuzzer makes, per target (seeds up to this size are used whole).
max_len_of() {
  case "$1" in gguf|safetensors) echo 65536 ;; json|tokenizer) echo 16384 ;; *) echo 4096 ;; esac
}

# The seeds the writers make (every dtype), once per run.
seeds=$fz/seeds
rm -rf "$seeds"; mkdir -p "$seeds/gguf" "$seeds/safetensors" "$seeds/tokenizer"
if ! { cc -O1 -I. tests/fuzz_seeds.c -o $fz/fuzz_seeds -lm && $fz/fuzz_seeds "$seeds"; }; then
  echo "fuzz: warning: tests/fuzz_seeds.c failed; fuzzing from the other seeds only" >&2
fi

# Copies file $2 into corpus $1 under a name of its content's hash (no duplicates).
add_seed() { [ -f "$2" ] && cp "$2" "$1/seed-$(cksum < "$2" | tr ' ' '-')"; }

seed() {
  local t=$1 c=$fz/$1/corpus f n
  mkdir -p "$c"
  for f in tests/fuzz_regressions/"$t"/*; do add_seed "$c" "$f"; done
  case "$t" in
    gguf|safetensors)
      for f in "$seeds/$t"/*; do add_seed "$c" "$f"; done
      [ -d "$shared" ] && find "$shared" -name "*.$t" -type f | while read -r f; do add_seed "$c" "$f"; done ;;
    json)
      # safetensors headers: 8-byte little-endian length, then the JSON text
      for f in "$seeds"/safetensors/* $( [ -d "$shared" ] && find "$shared" -name "*.safetensors" -type f ); do
        n=$(od -An -t u8 -N 8 "$f" | tr -d ' ')
        [ -n "$n" ] && [ "$n" -lt 16384 ] && tail -c +9 "$f" | head -c "$n" > "$c/tmp.json" && add_seed "$c" "$c/tmp.json"
      done
      rm -f "$c/tmp.json"
      [ -d "$shared" ] && find "$shared" -name "*.json" -type f -size -16k | while read -r f; do add_seed "$c" "$f"; done ;;
    tokenizer)
      # a vocabulary in GGUF, and texts: the tokenizer test strings of llama.cpp's vocab files
      for f in "$seeds"/tokenizer/*; do add_seed "$c" "$f"; done
      [ -d "$shared" ] && find "$shared" -name "*.gguf.inp" -type f | while read -r f; do
        awk -v d="$c" 'BEGIN { RS = "\n__ggml_vocab_test__\n" } { printf "%s", $0 > (d "/tmp-" NR) }' "$f"
        for s in "$c"/tmp-*; do add_seed "$c" "$s"; rm -f "$s"; done
      done ;;
  esac
}

run_target() {
  local t=$1 d=$fz/$1 dict=""
  [ -f "tests/fuzz_$t.dict" ] && dict="-dict=tests/fuzz_$t.dict"
  "$d/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout="$per_input" \
      -max_len="$(max_len_of "$t")" -artifact_prefix="$d/" $dict "$d/corpus" > "$d/log" 2>&1
  echo $? > "$d/rc"
}

fail=0
for t in $targets; do
  mkdir -p "$fz/$t"
  rm -f $fz/"$t"/{crash,leak,timeout,oom,slow-unit}-*
  # LBRX_STATIC: only the functions the harness reaches are compiled (about 3 s of CPU instead of
  # 90 per harness under the sanitizers' instrumentation); the fuzzed code is the same.
  if ! clang -g -O1 -march=native -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
         -DLBRX_STATIC -I. "tests/fuzz_$t.c" -o "$fz/$t/fuzz_$t" -lm 2> "$fz/$t/build.log"; then
    cat "$fz/$t/build.log"; echo "fuzz $t: BUILD FAILED"; fail=1; continue
  fi
  seed "$t"
done

running=0
for t in $targets; do
  [ -x "$fz/$t/fuzz_$t" ] || continue
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  run_target "$t" &
  running=$((running + 1))
done
wait

for t in $targets; do
  d=$fz/$t
  [ -f "$d/log" ] && [ -x "$d/fuzz_$t" ] || continue
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" | tail -n 1)
  edges=$(grep -o 'cov: [0-9]*' "$d/log" | tail -n 1 | sed 's/cov: //')
  bad=$(ls "$d" | grep -E '^(crash|leak|timeout|oom)-' | wc -l)
  echo "fuzz $t: ${secs} s, ${execs:-?} executions, ${edges:-?} edges, corpus $(ls "$d/corpus" | wc -l) inputs, $bad failing inputs"
  if [ "$bad" -gt 0 ] || [ "$(cat "$d/rc")" -ne 0 ]; then
    fail=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz invariant)' "$d/log" | head -n 5
    ls "$d" | grep -E '^(crash|leak|timeout|oom)-' | sed "s#^#   $d/#"
  fi
done
[ "$fail" -eq 0 ] && echo "fuzz: no failures" || echo "fuzz: FAILURES (inputs above; see $fz/<target>/log)"
exit $fail
