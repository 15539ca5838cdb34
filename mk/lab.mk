# The lab (internal/lab): real control-plane and metrics components as plain
# processes, for the tests. See docs/lab.md.
#
# lab-tools builds kube-apiserver, kube-controller-manager and kubectl
# (k8s.io/kubernetes, pinned in tools/k8s) and prometheus-adapter (tools/adapter)
# into .cache/lab/bin. Each binary depends on its module's go.mod and go.sum, so
# a warm run rebuilds nothing. Debian packages (etcd, prometheus, redis, the
# exporter) come from scripts/install-test-deps.sh (target test-deps).
LAB_BIN := .cache/lab/bin
LAB_K8S_VERSION := v1.37.2
LAB_K8S_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(LAB_K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=37 \
	-X k8s.io/component-base/version.gitTreeState=clean
LAB_K8S_CMDS := kube-apiserver kube-controller-manager kubectl
LAB_TOOLS := $(addprefix $(LAB_BIN)/,$(LAB_K8S_CMDS)) $(LAB_BIN)/prometheus-adapter

TEST_PREREQS += lab-tools

.PHONY: lab-tools lab-run lab-shell lab-test lab-clean
lab-tools: $(LAB_TOOLS) crds

$(addprefix $(LAB_BIN)/,$(LAB_K8S_CMDS)): $(LAB_BIN)/%: tools/k8s/go.mod tools/k8s/go.sum
	@mkdir -p $(LAB_BIN)
	cd tools/k8s && $(GO) build -trimpath -ldflags '$(LAB_K8S_LDFLAGS)' -o $(CURDIR)/$@.tmp k8s.io/kubernetes/cmd/$*
	mv $@.tmp $@

$(LAB_BIN)/prometheus-adapter: tools/adapter/go.mod tools/adapter/go.sum
	@mkdir -p $(LAB_BIN)
	cd tools/adapter && $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/$@.tmp sigs.k8s.io/prometheus-adapter/cmd/adapter
	mv $@.tmp $@

# Start the lab in the state right after `dojo up`, run CMD inside its network
# namespace (KUBECONFIG, DOJO_PROMETHEUS_URL, DOJO_REDIS_ADDR set; bin/dojo and
# kubectl on PATH), stop the lab, exit with CMD's status.
CMD ?= kubectl get pods -A
# (labrun exits with CMD's status; make itself reports any failure as 2.)
lab-run: build test-deps lab-tools
	$(GO) build -o $(LAB_BIN)/labrun ./internal/lab/cmd/labrun
	$(LAB_BIN)/labrun -- bash -c '$(CMD)'

lab-shell: build test-deps lab-tools
	$(GO) build -o $(LAB_BIN)/labrun ./internal/lab/cmd/labrun
	$(LAB_BIN)/labrun -- bash -i

# Only the lab's proof tests.
lab-test: build test-deps lab-tools
	$(GO) test -count=1 -v ./internal/lab/...

lab-clean:
	rm -rf $(LAB_BIN)
