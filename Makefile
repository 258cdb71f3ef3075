# pvisor — one non-recursive Makefile.
#
#   make              build/pvsensor build/pvaggregator build/pvctl
#   make check        deps, build, unit tests (cmocka), fuzz seed replay, integration tests
#   make check SAN=1  the same under ASan+UBSan (separate build dir)
#   make fuzz         libFuzzer targets (clang) in build/fuzz/
#   make demo         live demo in a private network namespace
#   make install      binaries, systemd units, sysusers/tmpfiles (DESTDIR, PREFIX)
#   V=1               show full commands
#
# Every tests/unit/test_*.c is a cmocka binary; every tests/fuzz/fuzz_*.c a fuzz
# target (replayed over tests/fuzz/corpus/<name>/ by make check); every
# tests/integ/*.sh an integration test. Adding a file is enough: no edits here.

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
OPT ?= -O2 -g

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -MMD -MP \
	-I. -I$(BUILD)/proto $(CFLAGS)
# Generated protobuf code is not ours to hold to our warning set.
CFLAGS_GEN := -std=c11 -D_GNU_SOURCE $(OPT) $(SANFLAGS) -MMD -MP -I. -I$(BUILD)/proto $(CFLAGS)
LIBS := -lpcap -lnng -lprotobuf-c -lurcu -lurcu-common -lcap -lmaxminddb -lxxhash -lpthread -lm
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

PROTO_C := $(BUILD)/proto/pvisor.pb-c.c
PROTO_H := $(BUILD)/proto/pvisor.pb-c.h

MAINS := sensor/main.c aggregator/main.c ctl/main.c
MOD_SRCS := $(filter-out $(MAINS),$(wildcard lib/*.c shm/*.c sensor/*.c aggregator/*.c ctl/*.c))
MOD_OBJS := $(MOD_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/proto/pvisor.pb-c.o
LIBPV := $(BUILD)/libpv.a

PROGS := $(BUILD)/pvsensor $(BUILD)/pvaggregator $(BUILD)/pvctl

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(wildcard tests/unit/helpers/*.c)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/obj/%.o)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/replay_%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all check unit fuzz-replay integ fuzz demo install clean deps bench
all: $(PROGS) $(TOOL_BINS)

deps:
	$(Q)bash scripts/deps.sh

$(PROTO_C) $(PROTO_H): proto/pvisor.proto
	$(call say,PROTOC,$<)
	$(Q)mkdir -p $(BUILD)/proto
	$(Q)protoc-c --c_out=$(BUILD)/proto --proto_path=proto proto/pvisor.proto

# Everything that includes the generated header must wait for it.
$(MOD_OBJS) $(MAINS:%.c=$(BUILD)/obj/%.o) $(TEST_HELPER_OBJS): | $(PROTO_H)

$(BUILD)/obj/proto/pvisor.pb-c.o: $(PROTO_C)
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_GEN) -c $< -o $@

$(BUILD)/obj/%.o: %.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIBPV): $(MOD_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/pvsensor: $(BUILD)/obj/sensor/main.o $(LIBPV)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/pvaggregator: $(BUILD)/obj/aggregator/main.o $(LIBPV)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/pvctl: $(BUILD)/obj/ctl/main.o $(LIBPV)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(TEST_HELPER_OBJS) $(LIBPV)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS) -lcmocka

$(BUILD)/tests/replay_%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay.o $(LIBPV)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBPV)
	$(call say,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

# libFuzzer builds: clang, separate tree, the replay main left out.
FUZZ_BUILD := build/fuzz-obj
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -I. -I$(FUZZ_BUILD)/proto \
	-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
fuzz: $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(MOD_SRCS) proto/pvisor.proto
	$(call say,FUZZ,$@)
	$(Q)mkdir -p $(dir $@) $(FUZZ_BUILD)/proto
	$(Q)protoc-c --c_out=$(FUZZ_BUILD)/proto --proto_path=proto proto/pvisor.proto
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(MOD_SRCS) \
		$(FUZZ_BUILD)/proto/pvisor.pb-c.c $(LIBS)

unit: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

fuzz-replay: $(FUZZ_REPLAY)
	$(Q)fail=0; for t in $(FUZZ_REPLAY); do n=$${t##*/replay_}; \
		echo "== $$t tests/fuzz/corpus/$$n"; $$t tests/fuzz/corpus/$$n || fail=1; done; exit $$fail

integ: $(PROGS) $(TOOL_BINS)
	$(Q)BUILD=$(BUILD) bash tests/integ/run.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(FUZZ_REPLAY)
	$(Q)$(MAKE) --no-print-directory unit fuzz-replay integ

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) bash scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) bash scripts/bench.sh

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/lib/systemd/system \
		$(DESTDIR)/usr/lib/sysusers.d $(DESTDIR)/usr/lib/tmpfiles.d
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 systemd/pvsensor.service systemd/pvaggregator.service \
		$(DESTDIR)/lib/systemd/system/
	install -m 0644 systemd/pvisor.sysusers $(DESTDIR)/usr/lib/sysusers.d/pvisor.conf
	install -m 0644 systemd/pvisor.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/pvisor.conf

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
