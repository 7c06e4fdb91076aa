# lbrx Makefile: it only wraps the one-line builds of the examples and tests.
#   make demo    build the examples and run the demo
#   make test    the whole test suite over the build matrix (tests/matrix.sh)
#   make bench   benchmarks (BLAS=1 adds OpenBLAS as the f32 peer)
#   make fuzz    the libFuzzer harnesses tests/fuzz_*.c, FUZZ_SECONDS each (tests/fuzz.sh)
CC ?= cc
CFLAGS ?= -O3 -march=native
OMP ?= -fopenmp
LDLIBS = -lm
ifeq ($(BLAS),1)
  BENCH_BLAS = -DLBRX_BENCH_BLAS -lopenblas
endif
EXAMPLES = $(patsubst examples/%.c,build/%,$(filter-out examples/cuda_device.c,$(wildcard examples/*.c)))
HEADERS = lbrx.h lbrx_gguf.h lbrx_safetensors.h

.PHONY: all examples demo test bench fuzz clean

all: examples
examples: $(EXAMPLES)

build/%: examples/%.c $(HEADERS)
	@mkdir -p build
	$(CC) $(CFLAGS) $(OMP) -I. $< -o $@ $(LDLIBS)

build/bench: examples/bench.c $(HEADERS)
	@mkdir -p build
	$(CC) $(CFLAGS) $(OMP) -I. $< -o $@ $(LDLIBS) $(BENCH_BLAS)

demo: examples
	./build/demo

test:
	bash tests/matrix.sh $(CONFIGS)

FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz.sh

bench: build/bench
	./build/bench $(BENCH_ARGS)

clean:
	rm -rf build
