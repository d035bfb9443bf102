# Cairn: build, run, test and benchmark. `make run` starts a node; `make test` runs every test.
# Each target installs what it needs (Debian packages through apt-get, Python modules through
# pip) and only what is missing, so a fresh Debian machine with the Swift toolchain is enough.

SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
PORT ?= 6379
BIND ?= 127.0.0.1
DATA_DIR ?= ./data
PYTEST_ARGS ?=
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
COSTGUARD_ARGS ?=

BUILD_PACKAGES := zlib1g-dev liblz4-dev liblzf-dev pkg-config
TEST_PACKAGES := $(BUILD_PACKAGES) redis-server redis-tools lz4 gzip valgrind binutils
PYTHON_TEST_MODULES := redis=redis pytest=pytest

RELEASE_SERVER := .build/release/cairn-server
# Release builds drop Swift's run-time exclusivity checks (the compile-time ones stay), in every
# module: SwiftNIO's channel makes a checked access on each of the dozen property reads an I/O
# event costs, and those checks were a fifth of the instructions of an unpipelined request
# (docs/benchmarks.md, "CPU per request"). The debug build, which every test runs, keeps them, so
# a conflicting access still traps there. Build with `make release`; a plain `swift build -c
# release` works too but is slower.
RELEASE_FLAGS := -c release -Xswiftc -enforce-exclusivity=unchecked
DEBUG_SERVER := .build/debug/cairn-server
INTEGRATION := Tests/Integration

.PHONY: all build release run test unit-test integration-test test-redis test-both bench \
        deps test-deps clean help fuzz fuzz-build fuzz-regression costguard

all: build

help:
	@echo "make run         build (release) and run a node on $(BIND):$(PORT), data in $(DATA_DIR)"
	@echo "make test        unit tests (swift test) + integration tests against the debug build"
	@echo "                 + the CPU-cost guard (make costguard)"
	@echo "make test-redis  the integration suite against a real redis-server (proves the tests)"
	@echo "make test-both   the integration suite against both servers"
	@echo "make bench       tools/bench: cairn-server vs redis-server (release build)"
	@echo "make costguard   tools/costguard: instructions and allocations per request under callgrind,"
	@echo "                 against tools/costguard-budget.json (release build; docs/benchmarks.md)"
	@echo "make fuzz        each libFuzzer target for FUZZ_SECONDS (default 60) (docs/fuzzing.md)"

deps:
	@tools/ensure-deps apt $(BUILD_PACKAGES)

test-deps:
	@tools/ensure-deps apt $(TEST_PACKAGES)
	@tools/ensure-deps pip $(PYTHON_TEST_MODULES)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

run: release
	mkdir -p $(DATA_DIR)
	$(RELEASE_SERVER) --bind $(BIND) --port $(PORT) --dir $(DATA_DIR)

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) --no-print-directory fuzz-regression
	cd $(INTEGRATION) && CAIRN_SERVER=$(CURDIR)/$(DEBUG_SERVER) $(PYTHON) -m pytest -q $(PYTEST_ARGS)
	$(MAKE) --no-print-directory costguard

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

integration-test: test-deps
	$(SWIFT) build --product cairn-server
	$(SWIFT) build --product cairn-rdb
	$(SWIFT) build --product cairn-aof
	$(SWIFT) build --product cairn-backup
	cd $(INTEGRATION) && CAIRN_SERVER=$(CURDIR)/$(DEBUG_SERVER) $(PYTHON) -m pytest -q $(PYTEST_ARGS)

test-redis: test-deps
	cd $(INTEGRATION) && $(PYTHON) -m pytest -q --against-redis $(PYTEST_ARGS)

test-both: test-deps
	$(SWIFT) build --product cairn-server
	$(SWIFT) build --product cairn-rdb
	$(SWIFT) build --product cairn-aof
	$(SWIFT) build --product cairn-backup
	cd $(INTEGRATION) && CAIRN_SERVER=$(CURDIR)/$(DEBUG_SERVER) $(PYTHON) -m pytest -q --both $(PYTEST_ARGS)

# Fuzzing (docs/fuzzing.md): a separate package (Fuzz/) built with ASan and libFuzzer into
# .build-fuzz; seeds are written from Fixtures/ into .fuzz/seeds, new inputs kept in .fuzz/corpus.
fuzz-build: deps
	tools/fuzz build
	tools/fuzz seeds

# Each target for FUZZ_SECONDS, one after the other (FUZZ_TARGETS="rdb-lz4 ..." picks some).
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) tools/fuzz run $(FUZZ_TARGETS)

# Part of `make test`: every committed crasher (Fixtures/fuzz/<target>/), every seed, then a
# fixed number of mutations with a fixed seed per target; any finding fails.
fuzz-regression: fuzz-build
	tools/fuzz regress

# Part of `make test` (docs/benchmarks.md, "CPU-cost guard"): instructions and allocations per
# request of the release server under callgrind, checked against tools/costguard-budget.json,
# with redis-server's figures next to them. A change meant to cost more: tools/costguard --update.
costguard: test-deps
	$(SWIFT) build $(RELEASE_FLAGS) --product cairn-server
	tools/costguard --server $(RELEASE_SERVER) $(COSTGUARD_ARGS)

bench: test-deps release
	tools/bench --server $(RELEASE_SERVER) $(BENCH_ARGS)

clean:
	rm -rf .build .build-fuzz
