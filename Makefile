# The front door. CMake does the building; this file names the jobs.
#
#   make            release build into build/ (the program is build/handoff)
#   make test       the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make reproduce  the paper's section 5 on the simulator: out/report.md, figures, JSON
#   make bench      build with optimisation and run every benchmark (bench/bench_*.c)
#   make fuzz       build the libFuzzer targets (fuzz/fuzz_*.c) and run each for FUZZ_SECONDS
#   make format     clang-format every C file
#   make clean      remove build/ and out/
#
# Missing Debian packages are installed by scripts/install-deps.sh (or it prints the command).

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD := build
ASAN_BUILD := build/asan
OUT ?= out

.PHONY: all deps build test reproduce bench fuzz format clean

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

BENCH_BUILD := build/bench
# After our own benchmarks, the same kind of run in ns-3 (bench/ns3/http_closed_loop.cc), so that
# simulated packets per wall-clock second are compared on one machine in one run. It is built
# with Debian's ns-3, an optional dependency (install-deps.sh --bench tries to install it); when
# ns-3 is absent the comparison is skipped. NS3_ARGS passes options, e.g. NS3_ARGS=--packets=100000.
NS3_MODULES := ns3-core ns3-network ns3-internet ns3-point-to-point ns3-applications
NS3_SRC := bench/ns3/http_closed_loop.cc
NS3_BENCH := $(BENCH_BUILD)/ns3_http_closed_loop
NS3_ARGS ?=
# The simulator's speed is also compared with an earlier build of itself, built beside this one
# and run alternately (bench/versus.sh): BENCH_BASE is the last commit before the firmware and
# the OS side were taken out of the simulator.
BENCH_BASE ?= 3b3b528
# The emulator against nginx on Linux's TCP, and the host's time per request with connections on
# the host or on the NIC (bench/emu_versus_linux.sh, as root): seconds of wrk per cell.
EMU_BENCH_SECONDS ?= 10
bench:
	@./scripts/install-deps.sh --bench
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DHANDOFF_TESTS=OFF -DHANDOFF_BENCH=ON >/dev/null
	@cmake --build $(BENCH_BUILD) -j $(JOBS)
	@set -e; for b in $(BENCH_BUILD)/bench_*; do echo "== $$(basename $$b)"; $$b; done
	@echo "== versus $(BENCH_BASE)"; ./bench/versus.sh $(BENCH_BASE)
	@if ! pkg-config --exists $(NS3_MODULES) 2>/dev/null; then \
		echo "== ns3_http_closed_loop: skipped (ns-3 is not installed; scripts/install-deps.sh --bench installs it)"; \
	else \
		if [ ! $(NS3_BENCH) -nt $(NS3_SRC) ]; then \
			g++ -O2 -std=c++17 -DNS3_VERSION="\"$$(pkg-config --modversion ns3-core)\"" $(NS3_SRC) \
				$$(pkg-config --cflags --libs $(NS3_MODULES)) -o $(NS3_BENCH) || \
				{ echo "ns3_http_closed_loop: building against ns-3 failed"; exit 1; }; \
		fi; \
		echo "== ns3_http_closed_loop"; \
		$(NS3_BENCH) $(NS3_ARGS); \
	fi
	@echo "== emu_versus_linux"; ./bench/emu_versus_linux.sh $(BENCH_BUILD)/handoff $(EMU_BENCH_SECONDS)

# Each fuzz/fuzz_NAME.c is linked with the TCP engine, the policy engine, the workload readers,
# the simulator's configuration parser (src/sim/config.c alone: the rest of src/sim needs
# libpcap), the web server's HTTP parser (src/app/http.c alone: the server itself needs the OS
# side) and the utilities, and run from its seed corpus fuzz/corpus/NAME (written by
# fuzz/gen_corpus_NAME.c); new inputs go to build/fuzz/corpus-NAME, never into the source tree.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_POSIX_C_SOURCE=200809L -Iinclude -Isrc/tcpe
fuzz: deps
	@mkdir -p build/fuzz
	@set -e; for src in fuzz/fuzz_*.c; do \
		name=$$(basename $$src .c); name=$${name#fuzz_}; \
		echo "fuzz: building $$name"; \
		clang $(FUZZ_CFLAGS) $$src src/tcpe/*.c src/policy/*.c src/workload/*.c src/sim/config.c src/nic/*.c \
			src/app/http.c src/util/*.c -lm -o build/fuzz/fuzz_$$name; \
		mkdir -p build/fuzz/corpus-$$name; \
		echo "fuzz: running $$name for $(FUZZ_SECONDS) s"; \
		./build/fuzz/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build/fuzz/corpus-$$name fuzz/corpus/$$name 2>build/fuzz/$$name.log || \
			{ tail -40 build/fuzz/$$name.log; echo "fuzz: $$name FOUND A FAILURE"; exit 1; }; \
		grep -E 'stat::number_of_executed_units|stat::peak_rss' build/fuzz/$$name.log; \
	done

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(OUT)
