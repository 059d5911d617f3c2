# Vigil's two commands for a newcomer: `make run` and `make test`. Both install what a fresh Debian
# machine lacks first, and are safe to run again.

SWIFT ?= swift
# Debian packages Vigil builds against, checked through pkg-config.
PKG_CONFIG_MODULES := libbpf libseccomp sqlite3 zlib
APT_PACKAGES := pkg-config libbpf-dev libseccomp-dev libsqlite3-dev zlib1g-dev auditd
AGENT_ARGS ?=

.PHONY: all deps build run test bench lint clean

all: build

# Installs the Debian packages only when they are missing (idempotent; needs root or sudo): the libraries
# pkg-config cannot find, and auditd's auditctl, which the kernel-audit tests use to add rules.
deps:
	@if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists $(PKG_CONFIG_MODULES) \
		&& command -v auditctl >/dev/null 2>&1; then \
		echo "deps: $(PKG_CONFIG_MODULES) and auditctl present"; \
	else \
		echo "deps: installing $(APT_PACKAGES)"; \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) && \
		pkg-config --exists $(PKG_CONFIG_MODULES) || { echo "deps: $(PKG_CONFIG_MODULES) still missing" >&2; exit 1; }; \
	fi

build: deps
	$(SWIFT) build -c release --product vigil-agent

# Builds and starts the main job: vigil-agent on this host.
run: build
	$$($(SWIFT) build -c release --show-bin-path)/vigil-agent run $(AGENT_ARGS)

# Runs every test (unit, integration and end-to-end).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

# Runs the benchmarks (a separate package in Benchmarks/); figures are medians of repeated runs.
bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --format markdown

lint:
	$(SWIFT) format lint --strict -r Sources Tests Examples Benchmarks/Benchmarks

clean:
	rm -rf .build Benchmarks/.build
