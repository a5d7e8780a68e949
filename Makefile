# acso — build, test and install.
#
#   make                      build ./acso
#   make test                 unit + integration tests, normal and ASan/UBSan builds
#   make check                everything CI runs: make test plus the slow tier and the QEMU e2e
#   make test SANITIZE=1      only the sanitizer build's run
#   make e2e | make demo | make bench | make fuzz
#   make install PREFIX=/usr/local DESTDIR=...

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share/acso
MANDIR    ?= $(PREFIX)/share/man
COMPDIR   ?= $(PREFIX)/share/bash-completion/completions

CC        ?= cc
PKGS      := libcurl libarchive liblzma libgit2 openssl json-c libpci
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter \
             -Wmissing-prototypes -Wstrict-prototypes -Wvla -Wno-format-truncation
ALL_CFLAGS = -std=gnu17 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Ibuilder $(PKG_CFLAGS) \
             -DACSO_VERSION='"$(VERSION)"' -DACSO_DATADIR='"$(DATADIR)"' $(SAN_FLAGS)
LDLIBS    := $(PKG_LIBS)

ifeq ($(SANITIZE),1)
BUILD     := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ACSO_BIN  := $(BUILD)/acso
else
BUILD     := build
ACSO_BIN  := acso
endif

# builder/ has a folder per step of the job (builder/README.md); cli/ is the
# command layer, fuzz/ the libFuzzer targets, every other folder the core.
CMD_SRC   := $(wildcard builder/cli/*.c)
CORE_SRC  := $(filter-out builder/cli/% builder/fuzz/%,$(wildcard builder/*/*.c))
CORE_OBJ  := $(CORE_SRC:builder/%.c=$(BUILD)/obj/%.o)
CMD_OBJ   := $(CMD_SRC:builder/%.c=$(BUILD)/obj/%.o)
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test check slow e2e demo bench fuzz install clean units ready
all: $(ACSO_BIN)

# Header dependencies come from -MMD alone (the .d files included below).
$(BUILD)/obj/%.o: builder/%.c | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)/tests

$(BUILD)/libacso.a: $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(ACSO_BIN): $(CMD_OBJ) $(BUILD)/libacso.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libacso.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libacso.a | $(BUILD)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -MMD -MP -o $@ $< $(BUILD)/libacso.a $(LDLIBS) -lcmocka

units: $(UNIT_BIN)

# `make test` runs the fast tiers twice: with the normal build and with the
# ASan/UBSan build. `make test SANITIZE=1` runs only the sanitizer build.
# `ready` builds the binary and the unit tests of the current flavour.
ready: $(ACSO_BIN) units

ifeq ($(SANITIZE),1)
test: ready
	tests/run --build $(BUILD)
else
test: ready
	$(MAKE) SANITIZE=1 ready
	tests/run --build build --build build-san
endif

check: ready
	$(MAKE) SANITIZE=1 ready
	tests/run --build build --build build-san --slow --e2e

slow: $(ACSO_BIN) units
	tests/run --build build --slow --only-slow

e2e: $(ACSO_BIN)
	tests/run --build build --e2e --only-e2e

demo:
	scripts/demo

bench: $(ACSO_BIN)
	scripts/bench

# libFuzzer targets: builder/fuzz/fuzz-*.c, each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 20
fuzz:
	scripts/fuzz $(FUZZ_SECONDS)

install: $(ACSO_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPDIR)
	install -m 0755 $(ACSO_BIN) $(DESTDIR)$(BINDIR)/acso
	cp -R patches kconfig keys $(DESTDIR)$(DATADIR)/
	install -m 0644 docs/acso.1 $(DESTDIR)$(MANDIR)/man1/acso.1
	install -m 0644 scripts/acso.bash-completion $(DESTDIR)$(COMPDIR)/acso

clean:
	rm -rf build build-san acso tests/out

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d)
