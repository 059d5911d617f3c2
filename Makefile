# Vigil's two commands for a newcomer: `make run` and `make test`. Both install what a fresh Debian
# machine lacks first, and are safe to run again.

SWIFT ?= swift
# Debian packages Vigil builds against, checked through pkg-config.
PKG_CONFIG_MODULES := libbpf libseccomp sqlite3 zlib
APT_PACKAGES := pkg-config libbpf-dev libseccomp-dev libsqlite3-dev zlib1g-dev auditd openssl python3 iproute2 \
	chromium
AGENT_ARGS ?=
DEMO_ARGS ?=
OVERHEAD_ARGS ?=
LATENCY_ARGS ?=

.PHONY: all deps build run test demo bench overhead latency lint clean

all: build

# Installs the Debian packages only when they are missing (idempotent; needs root or sudo): the libraries
# pkg-config cannot find; auditd, whose daemon and auditctl the kernel-audit tests use; openssl, which makes
# the webhook tests' certificates; Debian's python3, which the eBPF tests run as a workload; iproute2 (`ip`),
# with which the SSRF story makes its network namespace; and chromium, in which a test renders the HTML
# incident report.
deps:
	@if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists $(PKG_CONFIG_MODULES) \
		&& command -v auditctl >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 \
		&& [ -x /usr/bin/python3 ] && command -v ip >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1; then \
		echo "deps: $(PKG_CONFIG_MODULES), auditctl, openssl, python3, ip and chromium present"; \
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

# Runs the SSRF attack story end to end, as root (Examples/ssrf-story; about a minute): a vulnerable shop,
# a metadata service in its own network namespace, vigil-agent with the eBPF sensor, the shop's application
# events and a CloudTrail folder; prints the one incident Vigil tells. Options go in DEMO_ARGS
# ("--no-respond", "--benign", "--keep").
demo: deps
	$(SWIFT) build -c release --product vigil-agent
	$(SWIFT) build -c release --product ssrf-story
	@SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
	$$SUDO "$$($(SWIFT) build -c release --show-bin-path)/ssrf-story" demo $(DEMO_ARGS)

# Runs the benchmarks (a separate package in Benchmarks/); figures are medians of repeated runs.
bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --format markdown

# Measures what the eBPF sensor costs a syscall-heavy workload, against no tracer and against bpftrace, and
# the event rate the agent takes without drops (Scripts/ebpf-overhead.sh, as root; about 5 minutes).
# Installs bpftrace and bpftool when missing. Options go in OVERHEAD_ARGS, e.g. OVERHEAD_ARGS="--rounds 5".
overhead: deps
	@SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
	if command -v bpftrace >/dev/null 2>&1 && command -v bpftool >/dev/null 2>&1; then \
		echo "overhead: bpftrace and bpftool present"; \
	else \
		echo "overhead: installing bpftrace bpftool"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bpftrace bpftool; \
	fi
	$(SWIFT) build -c release --product vigil-agent
	@SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
	$$SUDO Scripts/ebpf-overhead.sh --agent "$$($(SWIFT) build -c release --show-bin-path)/vigil-agent" $(OVERHEAD_ARGS)

# Measures the time from a kernel event to a completed kill on a rule hit, with `vigil-agent run --respond
# on` (Scripts/response-latency.sh, as root; about a minute). Options go in LATENCY_ARGS ("--runs 500").
latency: build
	@SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
	$$SUDO Scripts/response-latency.sh --agent "$$($(SWIFT) build -c release --show-bin-path)/vigil-agent" $(LATENCY_ARGS)

lint:
	$(SWIFT) format lint --strict -r Sources Tests Examples Benchmarks/Benchmarks

clean:
	rm -rf .build Benchmarks/.build
