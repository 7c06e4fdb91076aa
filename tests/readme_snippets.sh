#!/usr/bin/env bash
# Compiles every ```c block of README.md as C99 with the warnings of tests/matrix.sh, and runs
# the ones that are whole programs. Part of `make test`; prints "N passed, N failed, N skipped".
#
#   a block with main(         a program: compiled and linked, then run (it must exit 0), unless
#                              a quoted file it names (".gguf", ".safetensors", ".json", ".bin")
#                              is absent: then compiled only, and the script says so
#   any other block            a fragment of statements: compiled as the body of
#                              `int readme_snippet(void)` after the three headers and <stdio.h>,
#                              <stdlib.h>, <string.h>
#   <!-- snippet: toplevel --> on the line before the fence: compiled at file scope as it is
#                              (declarations, #define and #include lines)
#   <!-- snippet: skip WHY --> on the line before the fence: not compiled (e.g. CUDA)
# Fragments are compiled at -O0 (not linked), programs at -O1. Errors point at README.md's lines
# (#line). Usage: tests/readme_snippets.sh [README.md]
set -u
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
FLAGS="-std=c99 -fopenmp -I. -Wall -Wextra -Werror -pedantic"
readme=${1:-README.md}
dir=build/readme
rm -rf "$dir" && mkdir -p "$dir"

# one file per block: $dir/N.c (the code), $dir/N.info ("line mode")
awk -v dir="$dir" '
  /^```c[ \t]*$/ && !on { on = 1; n++; mode = "body"
                          if (prev ~ /<!-- *snippet: *toplevel *-->/) mode = "toplevel"
                          if (prev ~ /<!-- *snippet: *skip/) mode = "skip"
                          print (NR + 1) " " mode > (dir "/" n ".info"); printf "" > (dir "/" n ".c"); next }
  /^```/ && on          { on = 0; next }
  on                    { print > (dir "/" n ".c") }
                        { prev = $0 }' "$readme"

pass=0 fail=0 skip=0
for info in "$dir"/*.info; do
  [ -e "$info" ] || break
  n=$(basename "$info" .info); read -r line mode < "$info"
  src="$dir/$n.c" unit="$dir/unit_$n.c" what="$readme:$line"
  if [ "$mode" = skip ]; then echo "SKIP $what (marked skip)"; skip=$((skip + 1)); continue; fi
  if grep -q '\bmain *(' "$src"; then mode=program; fi
  case "$mode" in
    program|toplevel) { echo "#line $line \"$readme\""; cat "$src"; } > "$unit" ;;
    body) { printf '#define LBRX_IMPL\n#include "lbrx_gguf.h"\n#include "lbrx_safetensors.h"\n'
            printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n'
            printf 'int readme_snippet(void);\nint readme_snippet(void) {\n'
            echo "#line $line \"$readme\""; cat "$src"; printf 'return 0;\n}\n'; } > "$unit" ;;
  esac
  if [ "$mode" != program ]; then
    if $CC $FLAGS -O0 -c "$unit" -o "$dir/$n.o"; then echo "PASS $what ($mode, compiled)"; pass=$((pass + 1))
    else echo "FAIL $what ($mode): does not compile"; fail=$((fail + 1)); fi
    continue
  fi
  if ! $CC $FLAGS -O1 "$unit" -o "$dir/$n" -lm; then echo "FAIL $what (program): does not compile"; fail=$((fail + 1)); continue; fi
  absent=""
  for f in $(grep -oE '"[^" ]+\.(gguf|safetensors|json|bin)"' "$src" | tr -d '"'); do
    [ -e "$f" ] || absent="$absent $f"
  done
  if [ -n "$absent" ]; then echo "PASS $what (program, compiled; not run: needs$absent)"; pass=$((pass + 1))
  elif (cd "$dir" && "./$n" > "$n.out" 2>&1); then echo "PASS $what (program, ran)"; pass=$((pass + 1))
  else echo "FAIL $what (program): exit status $?"; cat "$dir/$n.out"; fail=$((fail + 1)); fi
done
if [ "$skip" -gt 0 ]; then echo "readme snippets: $pass passed, $fail failed, $skip skipped"
else echo "readme snippets: $pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
