# The front door. CMake does the building; this file names the jobs.
#
#   make            release build into build/ (the program is build/handoff)
#   make test       the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make reproduce  the paper's evaluation (for now: the best demo that exists, see README)
#   make format     clang-format every C file
#   make clean      remove build/ and out/
#
# Missing Debian packages are installed by scripts/install-deps.sh (or it prints the command).

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD := build
ASAN_BUILD := build/asan
OUT ?= out

.PHONY: all deps build test reproduce format clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DHANDOFF_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHANDOFF_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@./scripts/run-tests.sh $(ASAN_BUILD) -j $(JOBS)

reproduce: build
	@./$(BUILD)/handoff reproduce --out $(OUT)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(OUT)
