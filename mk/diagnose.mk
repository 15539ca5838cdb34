# dojo diagnose (internal/diagnose): the table of the HPA controller's
# division by zero replicas, release by release, is generated from the
# k8s.io/kubernetes sources. hpa-sources fetches replica_calculator.go and
# horizontal.go of every release v1.30.0 … newest v1.37 from the Go module
# proxy into .cache/k8s-hpa-src (a release already there is not fetched
# again); the tests compare the table with them.
HPA_SRC := .cache/k8s-hpa-src

TEST_PREREQS += hpa-sources

.PHONY: hpa-sources hpa-table
hpa-sources:
	$(GO) run ./internal/diagnose/source/gen -cache $(HPA_SRC) -fetch

# Regenerate internal/diagnose/source/table_gen.go (after a new release).
hpa-table: hpa-sources
	$(GO) run ./internal/diagnose/source/gen -cache $(HPA_SRC) -out internal/diagnose/source/table_gen.go
