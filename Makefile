# ovnbgp — see README.md. Every target that needs Debian packages installs them.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
TEST_FLAGS ?= -count=1 -p 2 -timeout 25m

.PHONY: all build deb deps deps-vm lint test test-host test-fuzz test-vm demo demo-down bench bench-upstream bench-fleet clean

all: build

build:
	$(GO) build -o bin/ovnbgp ./cmd/ovnbgp

# The Debian package (dpkg-deb only): bin/ovnbgp_<version>_<arch>.deb.
deb:
	scripts/build-deb.sh bin

deps:
	@scripts/install-deps.sh

deps-vm:
	@scripts/install-deps.sh vm

$(GOBIN)/staticcheck:
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(GOBIN)/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags vmlab ./...
	$(GOBIN)/staticcheck ./...

# Every test: unit, integration against the real daemons in network namespaces,
# then the suites that need a full Debian kernel, inside QEMU.
test: deps lint test-host test-fuzz test-vm

test-host: deps
	$(GO) test $(TEST_FLAGS) ./...

# A short run of the update2 decoder's fuzz target (its seeds and
# testdata/fuzz also run in test-host as plain tests).
test-fuzz: deps
	$(GO) test -run '^$$' -fuzz '^FuzzUpdate2$$' -fuzztime 20s ./internal/ovsdb/

test-vm: deps
	scripts/test-vm.sh

# make demo NEUTRON=1: the topology is built through a real neutron-server.
demo: deps build
	OVNBGP_DEMO_NEUTRON=$(NEUTRON) scripts/demo.sh up

demo-down:
	scripts/demo.sh down

bench: deps build
	$(GO) run ./bench

# Upstream ovn-bgp-agent 4.0.0's own code beside ovnbgp's, in a Debian 13
# guest with its own image (suite trixie-upstream); not part of make test.
bench-upstream: deps
	CGO_ENABLED=0 $(GO) build -o bin/ovnbgp-vmlab ./cmd/ovnbgp
	git describe --always --dirty > bin/ovnbgp-vmlab.commit
	OVNBGP_VMLAB_TAGS=vmlab,upstream OVNBGP_VMLAB_TESTFLAGS="-test.timeout=40m $(OVNBGP_VMLAB_TESTFLAGS)" test/vmlab/run.sh --suite trixie-upstream ./test/upstream

# What a fleet of agents costs the southbound (bench/README.md, Fleet).
bench-fleet: deps
	$(GO) run ./bench -fleet

clean:
	rm -rf bin
