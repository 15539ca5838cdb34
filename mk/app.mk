# The workload (internal/app), its image (internal/image) and the release config.

TEST_PREREQS += test-deps

.PHONY: test-deps app-test app-bench release-check

# Debian packages the tests run for real: redis-server, the docker client, for the lab etcd,
# prometheus, the redis exporter, iproute2 and unshare, and for the kind tests dockerd
# (docker.io), mmdebstrap, busybox-static, jq and iptables.
test-deps:
	bash scripts/install-test-deps.sh

app-test: test-deps
	$(GO) test -count=1 ./internal/app/... ./internal/cli/app/... ./internal/image/... ./internal/testutil/...

# The numbers in docs/benchmarks.md ("Workload: producer and consumer").
app-bench: test-deps
	$(GO) test -run '^$$' -bench . -benchtime 20x -count 2 ./internal/app/

# Validates .goreleaser.yaml with GoReleaser itself, built from the Go module
# proxy. Not part of `make test`: the first run downloads and compiles
# GoReleaser and its cloud SDKs (about 35 min, niced, on a busy 2-core machine;
# the cost is the compile); later runs take seconds from the build cache.
GORELEASER_VERSION ?= v2.15.1
release-check:
	GOFLAGS= $(GO) run github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION) check
