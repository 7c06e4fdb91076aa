# lbrx Makefile: it only wraps the one-line builds of the examples and tests.
#   make demo    build the examples and run the demo
#   make test    the native configuration: every test as C99 with this machine's SIMD and OpenMP
#   make check   the whole build matrix (tests/matrix.sh; CONFIGS="asan nosimd" for a few)
#   make bench   benchmarks (BLAS=1 adds OpenBLAS as the f32 peer)
#   make fuzz    the libFuzzer harnesses tests/fuzz_*.c, FUZZ_SECONDS each (tests/fuzz.sh)
#   make cuda    the CUDA device example (examples/cuda_device.c), only where nvcc exists
CC ?= cc
CFLAGS ?= -O3 -march=native
OMP ?= -fopenmp
LDLIBS = -lm
comma := ,
ifeq ($(BLAS),1)
  BENCH_BLAS = -DLBRX_BENCH_BLAS -lopenblas
endif
EXAMPLES = $(patsubst examples/%.c,build/%,$(filter-out examples/cuda_device.c,$(wildcard examples/*.c)))
HEADERS = lbrx.h lbrx_gguf.h lbrx_safetensors.h examples/lbrx_tokenizer.h
NVCC ?= $(shell command -v nvcc 2>/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; })
CUDA_ARCH ?=

.PHONY: all examples demo test check bench fuzz cuda clean

all: examples
examples: $(EXAMPLES)

build/%: examples/%.c $(HEADERS)
	@mkdir -p build
	$(CC) $(CFLAGS) $(OMP) -I. $< -o $@ $(LDLIBS)

build/bench: examples/bench.c $(HEADERS)
	@mkdir -p build
	$(CC) $(CFLAGS) $(OMP) -I. $< -o $@ $(LDLIBS) $(BENCH_BLAS)

cuda:
ifeq ($(NVCC),)
	@echo "make cuda: skipped, nvcc not found (install the CUDA toolkit or pass NVCC=/path/to/nvcc)"
else
	@mkdir -p build
	$(NVCC) -O2 $(CUDA_ARCH) -I. -Xcompiler $(subst $() ,$(comma),$(strip $(OMP) $(CFLAGS))) \
	    examples/cuda_device.c examples/cuda_device_kernels.cu -o build/cuda_device -lcublas -lgomp
endif

demo: examples
	./build/demo

test:
	bash tests/matrix.sh c99
	bash tests/readme_snippets.sh

check:
	bash tests/matrix.sh $(CONFIGS)

FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz.sh

bench: build/bench
	./build/bench $(BENCH_ARGS)

clean:
	rm -rf build
