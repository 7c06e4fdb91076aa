# lbrx Makefile: it only wraps the one-line builds of the examples and tests.
#   make demo    build the examples and run the demo
#   make test    the whole test suite over the build matrix (tests/matrix.sh)
#   make bench   benchmarks (BLAS=1 adds OpenBLAS as the f32 peer)
#   make cuda    the CUDA device example (examples/cuda_device.c), only where nvcc exists
#   make fuzz    the GGUF reader under libFuzzer (clang) for FUZZ_SECONDS (60), seeded from ../shared/data
CC ?= cc
CFLAGS ?= -O3 -march=native
OMP ?= -fopenmp
LDLIBS = -lm
comma := ,
ifeq ($(BLAS),1)
  BENCH_BLAS = -DLBRX_BENCH_BLAS -lopenblas
endif
EXAMPLES = $(patsubst examples/%.c,build/%,$(filter-out examples/cuda_device.c,$(wildcard examples/*.c)))
HEADERS = lbrx.h lbrx_gguf.h lbrx_safetensors.h
NVCC ?= $(shell command -v nvcc 2>/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; })
CUDA_ARCH ?=

FUZZ_SECONDS ?= 60
FUZZ_SEEDS = $(wildcard ../shared/data/derived-llama.cpp-c392e50/ggml-quant-vectors.gguf ../shared/data/llama.cpp/v1/ggml-vocab-llama.gguf)

.PHONY: all examples demo test bench cuda fuzz clean

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
	bash tests/matrix.sh $(CONFIGS)

bench: build/bench
	./build/bench $(BENCH_ARGS)

fuzz:
	@mkdir -p build/fuzz_gguf_corpus build/fuzz_gguf_seeds
	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_gguf.c -o build/fuzz_gguf
	$(if $(FUZZ_SEEDS),cp $(FUZZ_SEEDS) build/fuzz_gguf_seeds/)
	./build/fuzz_gguf -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -rss_limit_mb=2048 \
	    -artifact_prefix=build/ build/fuzz_gguf_corpus build/fuzz_gguf_seeds

clean:
	rm -rf build
