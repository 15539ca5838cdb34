# dojo — build and test. `make build` writes bin/dojo; `make test` installs or
# builds everything the tests need, then runs them (this is what CI runs).
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/kubedojo/dojo/internal/cli.version=$(VERSION)
export GOFLAGS := -buildvcs=false

# Each mk/*.mk adds its own set-up targets to TEST_PREREQS.
TEST_PREREQS :=
include $(sort $(wildcard mk/*.mk))

.PHONY: build test unit kind-suite fuzz vet fmt-check clean
# CGO_ENABLED=0: a static binary, so dojo can package itself into a scratch image.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/dojo .

test: fmt-check vet build $(TEST_PREREQS) unit kind-suite fuzz

# Every package but the real-kind suite, which runs alone after (two cores:
# a kind cluster beside the lab would slow both). -timeout: the lab's and the
# kind suite's own budgets are longer than go test's default 10 minutes.
unit:
	pkgs=$$($(GO) list ./...) && $(GO) test -count=1 -timeout 30m $$(echo "$$pkgs" | grep -v '/internal/kindlab$$')

kind-suite:
	$(GO) test -count=1 -timeout 30m ./internal/kindlab/

# A short run of every fuzz target (the corpus lives in testdata/fuzz).
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseRef$$' -fuzztime $(FUZZTIME) ./internal/steps
	$(GO) test -run '^$$' -fuzz '^FuzzParseHintArgs$$' -fuzztime $(FUZZTIME) ./internal/cli/hint

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

clean:
	rm -rf bin

# Cold start of `dojo hint step-5 1` and `dojo steps`, beside `kubectl
# version --client` from lab-tools (docs/benchmarks.md).
.PHONY: bench-startup
bench-startup: lab-tools
	$(GO) test -run '^$$' -bench Startup -benchtime 40x -count 1 ./internal/cli
