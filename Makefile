# The two commands of the README. Both install what is missing (scripts/setup), then build.
BUILD_DIR ?= build
JOBS ?= 2
FUZZ_SMOKE ?= 1

.PHONY: setup build run test check clean

setup:
	bash scripts/setup

build: setup
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

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

clean:
	rm -rf $(BUILD_DIR)
