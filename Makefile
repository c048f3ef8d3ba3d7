# posttrain — `make` builds ./posttrain; `make test` runs the suite; `make asan` runs it
# under AddressSanitizer + UBSan; `make fuzz` builds the libFuzzer targets (clang).
CC      ?= gcc
OPT     ?= -O3 -march=native
CFLAGS  ?= $(OPT) -g
# Flags the build needs whatever CFLAGS a caller passes (make asan passes its own).
BASE_CFLAGS := -std=gnu11 -fopenmp -fno-trapping-math -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Isrc -MMD -MP
LDLIBS  += -lpcre2-8 -lcjson -lutf8proc -ldnnl -lzstd -lz -lm -fopenmp -lmicrohttpd -lcurl -lsqlite3 -lsodium -lcmark
BUILD   ?= build/release

LIB_SRC  := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRC  := $(shell find src/cli -name '*.c' | sort)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/web_files.o
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test asan fuzz bench clean
all: posttrain

# The release binary sits at the repo root (README and tests use ./posttrain).
posttrain: $(BUILD)/posttrain
	cp $< $@

$(BUILD)/posttrain: $(CLI_OBJ) $(BUILD)/libposttrain.a
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/libposttrain.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -c -o $@ $<

# The web chat page (src/serve/web/) is compiled in as byte arrays (scripts/embed_web.sh).
$(BUILD)/gen/web_files.c: scripts/embed_web.sh $(wildcard src/serve/web/*)
	@mkdir -p $(dir $@)
	sh scripts/embed_web.sh src/serve/web > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/web_files.o: $(BUILD)/gen/web_files.c
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libposttrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASE_CFLAGS) -o $@ $< $(BUILD)/libposttrain.a $(LDFLAGS) $(LDLIBS)

tests: $(TESTS) $(BUILD)/posttrain

test: posttrain tests
	POSTTRAIN=$(abspath $(BUILD)/posttrain) TEST_BIN=$(abspath $(BUILD)/tests) bash tests/run.sh

# Sanitized build in its own directory; the same suite runs against it.
asan:
	$(MAKE) BUILD=build/asan \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" tests build/asan/posttrain
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    POSTTRAIN=$(abspath build/asan/posttrain) TEST_BIN=$(abspath build/asan/tests) \
	    SANITIZED=1 bash tests/run.sh

fuzz:
	$(MAKE) -C tests/fuzz

bench: posttrain
	bash bench/tokenize/run.sh

clean:
	rm -rf build posttrain

-include $(shell find build -name '*.d' 2>/dev/null)
