# The two commands of the README. Both install what is missing (scripts/setup), then build.
BUILD_DIR ?= build
JOBS ?= 2
FUZZ_SMOKE ?= 1
RELEASE_DIR ?= build-release
# Every build type the project ships is compiled by `make test`: RelWithDebInfo (make) and
# Release (the Dockerfile); RELEASE_BUILD=0 skips the second.
RELEASE_BUILD ?= 1

.PHONY: setup build build-release run test check clean

setup:
	bash scripts/setup

build: setup
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The Dockerfile's build: Release (-O3), no tests. GCC reports some warnings only at -O3.
build-release: setup
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCXP_BUILD_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/codex-pooler serve

check:
	bash .ci/check-format
	bash .ci/check-layering
	bash .ci/check-chart
	bash .ci/check-compose

test: build check
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600
	@# A short run of every libFuzzer harness (clang build in build-fuzz); FUZZ_SMOKE=0 skips it.
	if [ "$(FUZZ_SMOKE)" != 0 ]; then JOBS=$(JOBS) bash bench/fuzz --smoke; fi
	if [ "$(RELEASE_BUILD)" != 0 ]; then $(MAKE) --no-print-directory build-release; fi

clean:
	rm -rf $(BUILD_DIR) $(RELEASE_DIR)
