# Teleread build, run and test. `make run` and `make test` do all the set-up on a
# fresh Debian machine (as root, or with sudo): they install the Debian packages
# below when missing, then build.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
export LANG := en_US.UTF-8
GO ?= go
BIN := bin/teleread

# Build: cgo for Fyne/GLFW/GL and the codecs. Run: the archive, validators and
# codecs; fonts with the glyphs of names in every character set (Fyne falls
# back to system fonts for what its own font lacks: CJK, Arabic, Hebrew,
# Thai). Test: Xvfb for the GL and GUI tests, xwd and xdotool for their
# screenshots and X input; pydicom, whose character set examples
# testdata/charset/pydicom copies; strace for the durability tests; a private
# D-Bus session (dbus-run-session) with gnome-keyring's Secret Service for the
# tests of the master key in the OS keyring.
DEB_PACKAGES := gcc g++ libc6-dev pkg-config git ca-certificates curl \
	libgl-dev libegl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev \
	libopenjp2-7-dev libcharls-dev libjpeg62-turbo-dev libgdcm-dev zlib1g-dev \
	xvfb xauth x11-apps xdotool orthanc orthanc-dicomweb dcmtk dicom3tools libgdcm-tools openjph-tools \
	fonts-noto-core fonts-noto-cjk python3-pydicom strace dbus-daemon gnome-keyring rsyslog rsyslog-gnutls

# Fuzz targets run briefly by `make test` and longer by `make fuzz`.
# make test counts executions rather than seconds: with a duration, go test
# puts a deadline on the run, and when it falls while a worker is minimizing
# a new interesting input, go test reports "context deadline exceeded" as the
# target's failure although nothing failed. Counts (for the run and for each
# minimization) set no deadline at all, and the same work is done however
# loaded the machine is.
FUZZ_TIME_TEST ?= 20000x
FUZZ_TIME ?= 2000000x
FUZZ_MINIMIZE ?= 5000x

.PHONY: all deps build run test fuzz-brief fuzz fuzz-long bench lint install clean

all: build

# deps installs the Debian packages that `dpkg -s` does not show as installed
# (apt-get update first, once, only when something is missing) and the Go modules.
deps: .deps-stamp
.deps-stamp: Makefile go.mod go.sum
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is required (https://go.dev/dl/); put it on PATH"; exit 1; }
	$(GO) mod download
	@touch $@

build: deps
	$(GO) build -o $(BIN) ./cmd/teleread

run: build
	./$(BIN)

# The pure-Go packages (no cgo GUI code) run again under the race detector:
# the app's Fyne-free parts (app/internal) among them.
RACE_PACKAGES := ./cache/... ./sync/... ./viewer/dataset/... ./viewer/codec/ljpeg ./viewer/codec/rle ./app/internal/... ./internal/...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The codec packages with C of our own run again under AddressSanitizer
# (gcc's libasan); the JPEG-LS scan decoder's tests hand it its input and
# output in C memory of their exact sizes, so a read or write past either
# fails the test. JPEG 2000's page-fault test measures glibc's allocator,
# which AddressSanitizer replaces, so it is left out of that run.
ASAN_PACKAGES := ./viewer/codec/jpegls ./viewer/codec/jpeg ./viewer/codec/jpeg2000
ASAN_SKIP := TestDecodeSeriesFaults

# Lint first; every test runs under a virtual X display (the GL and GUI tests
# need one; the rest do not mind); CI=true makes a missing dependency fail
# instead of skip. Every benchmark then runs once, so that one whose corpus
# file or peer (curl, the archive) is missing fails here rather than quietly
# measuring nothing in `make bench`.
test: deps
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	xvfb-run -a -s "-screen 0 1600x1000x24" $(GO) test -count=1 -timeout 30m ./...
	xvfb-run -a -s "-screen 0 1600x1000x24" $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 15m ./...
	$(GO) test -race -count=1 -timeout 15m $(RACE_PACKAGES)
	$(GO) test -asan -count=1 -timeout 15m -skip '$(ASAN_SKIP)' $(ASAN_PACKAGES)
	$(MAKE) --no-print-directory fuzz-brief

# fuzz-brief runs each fuzz target for FUZZ_TIME_TEST (go test runs one fuzz
# target per invocation).
fuzz-brief:
	@set -e; for pkg in $$($(GO) list -f '{{.Dir}}' ./...); do \
	  for fz in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$fz in $${pkg#$(CURDIR)/} for $(FUZZ_TIME_TEST)"; \
	    $(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZ_TIME_TEST) -fuzzminimizetime $(FUZZ_MINIMIZE) ./$${pkg#$(CURDIR)/}; \
	  done; \
	done

fuzz: deps
	$(MAKE) --no-print-directory fuzz-brief FUZZ_TIME_TEST=$(FUZZ_TIME)

# fuzz-long runs every fuzz target, one after the other, for FUZZ_LONG: a
# duration (10m) or a number of executions (10000000x, the floor each target
# must pass with no failure). It runs at the lowest CPU priority, so a shared
# machine stays usable, keeps each target's log under FUZZ_LOG_DIR and ends
# with a table of the executions each target reached. A failure stops it; go
# test has then written the input under the package's testdata/fuzz.
FUZZ_LONG ?= 10000000x
FUZZ_LOG_DIR ?= $(CURDIR)/bin/fuzz
fuzz-long: deps
	@mkdir -p $(FUZZ_LOG_DIR); set -e; \
	for pkg in $$($(GO) list -f '{{.Dir}}' ./...); do \
	  for fz in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    rel=$${pkg#$(CURDIR)/}; log=$(FUZZ_LOG_DIR)/$$(echo $$rel | tr / _)_$$fz.log; \
	    echo "fuzz $$fz in $$rel for $(FUZZ_LONG) (log $$log)"; \
	    nice -n 19 $(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZ_LONG) -fuzzminimizetime $(FUZZ_MINIMIZE) ./$$rel >$$log 2>&1 \
	      || { tail -n 30 $$log; exit 1; }; \
	  done; \
	done; \
	echo "target executions (last progress line of each log)"; \
	for log in $(FUZZ_LOG_DIR)/*.log; do \
	  printf '%s %s\n' "$$(basename $$log .log)" \
	    "$$(grep -o 'execs: [0-9]*' $$log | tail -n 1 | cut -d' ' -f2)"; \
	done

# bench prints Teleread's figures beside its peers' (dcmdump, gdcmconv, curl) as
# ratios, then the Go benchmarks.
bench: build
	xvfb-run -a -s "-screen 0 1600x1000x24" $(GO) run -tags teleread_bench ./cmd/benchreport

lint: deps
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# install puts the binary, its icon and the desktop entry (which registers the
# teleread:// link scheme and DICOM files) in place. `fyne package` could make
# the entry too, but it rewrites FyneApp.toml, so it is not used here.
PREFIX ?= /usr/local
install: build
	install -D -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/teleread
	install -D -m 644 assets/icon.png $(DESTDIR)$(PREFIX)/share/icons/hicolor/128x128/apps/teleread.png
	install -D -m 644 assets/teleread.desktop $(DESTDIR)$(PREFIX)/share/applications/teleread.desktop
	-command -v update-desktop-database >/dev/null && update-desktop-database $(DESTDIR)$(PREFIX)/share/applications
	-command -v xdg-mime >/dev/null && xdg-mime default teleread.desktop x-scheme-handler/teleread

clean:
	rm -rf bin .deps-stamp
