# Real kind clusters, offline (internal/kindlab, docs/kind.md).
#
# kind-node-image builds dojo's kind node image with no registry: kubelet,
# kubeadm, kube-scheduler and kube-proxy from k8s.io/kubernetes (tools/k8s,
# beside the lab's kube-apiserver, kube-controller-manager and kubectl), etcd,
# CoreDNS and crictl from their Go modules (tools/etcd, tools/coredns,
# tools/crictl), pause from internal/kindlab/cmd/pause, the root filesystem
# from Debian (mmdebstrap through the host's apt sources), and Redis packaged
# from Debian's redis-server. The archive's name carries a digest of what it is
# built from, so a warm run rebuilds nothing and a change rebuilds it;
# .cache/kind/node-image.tar points at the current one.
KIND_BIN := .cache/kind/bin
KIND_K8S_CMDS := kubelet kubeadm kube-scheduler kube-proxy
# (mk/lab.mk, read after this file, sets LAB_K8S_VERSION and builds the lab's
# binaries: named here by their paths.)
KIND_NODE_IMAGE = localhost/dojo-kind-node:$(LAB_K8S_VERSION)
KIND_LAB_BINS := $(addprefix .cache/lab/bin/,kube-apiserver kube-controller-manager kubectl)
KIND_TOOLS := $(addprefix $(KIND_BIN)/,$(KIND_K8S_CMDS) etcd coredns crictl pause kindrun)
KIND_VERSION := $(shell sed -n 's/^[[:space:]]*sigs.k8s.io\/kind \(v[^ ]*\).*/\1/p' go.mod)
KIND_BASE = $(shell $(GO) env GOMODCACHE)/sigs.k8s.io/kind@$(KIND_VERSION)/images/base/files
REDIS_IMAGE := $(shell sed -n 's/^[[:space:]]*RedisImage *= *"\(.*\)"/\1/p' internal/versions/versions.go)
# What the node image is made of: the script, every module's go.sum, the
# pause program, kind's version, Redis's image name and Debian's redis-server.
KIND_NODE_INPUTS := scripts/kind-node-image.sh tools/k8s/go.sum tools/etcd/go.sum tools/etcd/main.go tools/coredns/go.sum \
	tools/crictl/go.sum internal/kindlab/cmd/pause/main.go
KIND_NODE_KEY = $(shell { cat $(KIND_NODE_INPUTS); echo $(KIND_VERSION) $(REDIS_IMAGE) $(KIND_NODE_IMAGE); \
	dpkg-query -W -f '$${Version}' redis-server 2>/dev/null; } | sha256sum | cut -c1-16)
KIND_NODE_TAR = .cache/kind/node-$(KIND_NODE_KEY).tar

TEST_PREREQS += kind-node-image

.PHONY: kind-tools kind-node-image kind-run kind-shell kind-test kind-clean
kind-tools: $(KIND_TOOLS)

# Built as mk/lab.mk builds its three (same flags, cgo as the default), so the
# packages they share are compiled once.
$(addprefix $(KIND_BIN)/,$(KIND_K8S_CMDS)): $(KIND_BIN)/%: tools/k8s/go.mod tools/k8s/go.sum
	@mkdir -p $(KIND_BIN)
	cd tools/k8s && $(GO) build -trimpath -ldflags '$(LAB_K8S_LDFLAGS)' -o $(CURDIR)/$@.tmp k8s.io/kubernetes/cmd/$*
	mv $@.tmp $@

$(KIND_BIN)/etcd: tools/etcd/go.mod tools/etcd/go.sum tools/etcd/main.go
	@mkdir -p $(KIND_BIN)
	cd tools/etcd && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/$@.tmp .
	mv $@.tmp $@

$(KIND_BIN)/coredns: tools/coredns/go.mod tools/coredns/go.sum
	@mkdir -p $(KIND_BIN)
	cd tools/coredns && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/$@.tmp github.com/coredns/coredns
	mv $@.tmp $@

$(KIND_BIN)/crictl: tools/crictl/go.mod tools/crictl/go.sum
	@mkdir -p $(KIND_BIN)
	cd tools/crictl && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/$@.tmp sigs.k8s.io/cri-tools/cmd/crictl
	mv $@.tmp $@

$(KIND_BIN)/pause: internal/kindlab/cmd/pause/main.go
	@mkdir -p $(KIND_BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $@ ./internal/kindlab/cmd/pause

# Rebuilt every time (it is quick and follows internal/kindlab).
.PHONY: $(KIND_BIN)/kindrun
$(KIND_BIN)/kindrun:
	@mkdir -p $(KIND_BIN)
	$(GO) build -o $@ ./internal/kindlab/cmd/kindrun

kind-node-image: test-deps $(KIND_TOOLS) $(KIND_LAB_BINS)
	@if [ -f $(KIND_NODE_TAR) ]; then echo "kind node image: $(KIND_NODE_TAR) (cached)"; else \
		$(GO) mod download sigs.k8s.io/kind && \
		rm -f .cache/kind/node-*.tar && \
		KIND_BIN=$(CURDIR)/$(KIND_BIN) LAB_BIN=$(CURDIR)/.cache/lab/bin KIND_BASE=$(KIND_BASE) \
		K8S_VERSION=$(LAB_K8S_VERSION) NODE_IMAGE=$(KIND_NODE_IMAGE) REDIS_IMAGE=$(REDIS_IMAGE) \
		KINDRUN=$(CURDIR)/$(KIND_BIN)/kindrun bash scripts/kind-node-image.sh $(CURDIR)/$(KIND_NODE_TAR); fi
	ln -sfn $(notdir $(KIND_NODE_TAR)) .cache/kind/node-image.tar

# Run CMD against a real kind cluster in the state right after `dojo up`
# (inside the run's namespace: DOCKER_HOST, KUBECONFIG and a scratch HOME set,
# bin/dojo on PATH), then delete it; exits with CMD's status.
kind-run: build kind-node-image
	$(KIND_BIN)/kindrun up -- bash -c '$(CMD)'

kind-shell: build kind-node-image
	$(KIND_BIN)/kindrun up -- bash -i

# Only the real-cluster suite, verbose.
kind-test: build kind-node-image
	$(GO) test -count=1 -v -timeout 30m ./internal/kindlab/...

kind-clean:
	rm -rf .cache/kind
