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
KIND_LAB_BINS := $(addprefix .cache/lab/bin/,kube-apiserver kube-controller-manager kubectl prometheus-adapter)
# The workshop chain's programs: the Prometheus operator and its config
# reloader (tools/promop), Prometheus (tools/prometheus), kube-state-metrics
# (tools/kubestate) and node_exporter (tools/nodeexporter), which
# kube-prometheus-stack runs by default; the adapter is the lab's build
# (tools/adapter).
KIND_CHAIN_CMDS := operator prometheus-config-reloader prometheus kube-state-metrics node_exporter
KIND_TOOLS := $(addprefix $(KIND_BIN)/,$(KIND_K8S_CMDS) etcd coredns crictl pause kindrun $(KIND_CHAIN_CMDS) ingress-standin)
KIND_VERSION := $(shell sed -n 's/^[[:space:]]*sigs.k8s.io\/kind \(v[^ ]*\).*/\1/p' go.mod)
KIND_BASE = $(shell $(GO) env GOMODCACHE)/sigs.k8s.io/kind@$(KIND_VERSION)/images/base/files
# The images the pinned charts run for the workshop chain (kube-prometheus-stack
# 88.5.3 with its kube-state-metrics 8.4.0 and prometheus-node-exporter 4.56.1,
# prometheus-redis-exporter 6.29.0, prometheus-adapter 5.3.0), packaged
# into the node image under these names.
KIND_CHAIN_IMAGES := operator=quay.io/prometheus-operator/prometheus-operator:v0.93.1 \
	reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1 \
	prometheus=quay.io/prometheus/prometheus:v3.14.0-distroless \
	exporter=docker.io/oliver006/redis_exporter:v1.89.0 \
	adapter=registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0 \
	ksm=registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0 \
	nodeexporter=quay.io/prometheus/node-exporter:v1.12.1-distroless
REDIS_IMAGE := $(shell sed -n 's/^[[:space:]]*RedisImage *= *"\(.*\)"/\1/p' internal/versions/versions.go)
# What the node image is made of: the script, this file (the build recipes'
# flags), every module's go.sum, the pause program, kind's version, Redis's
# image name and Debian's redis-server and prometheus-redis-exporter.
KIND_NODE_INPUTS := scripts/kind-node-image.sh mk/kind.mk tools/k8s/go.sum tools/etcd/go.sum tools/etcd/main.go tools/coredns/go.sum \
	tools/crictl/go.sum internal/kindlab/cmd/pause/main.go tools/promop/go.sum tools/prometheus/go.sum tools/adapter/go.sum \
	tools/kubestate/go.sum tools/nodeexporter/go.sum
KIND_NODE_KEY = $(shell { cat $(KIND_NODE_INPUTS); echo $(KIND_VERSION) $(REDIS_IMAGE) $(KIND_NODE_IMAGE) $(KIND_CHAIN_IMAGES); \
	dpkg-query -W -f '$${Version}' redis-server prometheus-redis-exporter 2>/dev/null; } | sha256sum | cut -c1-16)
KIND_NODE_TAR = .cache/kind/node-$(KIND_NODE_KEY).tar

TEST_PREREQS += crds kind-node-image kind-learner-tools

.PHONY: crds kind-learner-tools kind-tools kind-node-image kind-run kind-shell kind-test kind-clean
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

$(KIND_BIN)/operator $(KIND_BIN)/prometheus-config-reloader: $(KIND_BIN)/%: tools/promop/go.mod tools/promop/go.sum
	@mkdir -p $(KIND_BIN)
	cd tools/promop && v=$$($(GO) list -m -f '{{.Version}}' github.com/prometheus-operator/prometheus-operator) && \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(call promver,$${v#v})" -o $(CURDIR)/$@.tmp github.com/prometheus-operator/prometheus-operator/cmd/$*
	mv $@.tmp $@

# Both report the version of their module (prometheus/common's version
# package; the release builds set it the same way). Prometheus 3.Y.Z is
# published as module version v0.3YY.Z.
promver = -X github.com/prometheus/common/version.Version=$(1) -X github.com/prometheus/common/version.Revision=go-module
# Without the builtinassets tag Prometheus serves its API and no web UI; with
# remove_all_sd,enable_kubernetes_sd its service discovery is Kubernetes's
# (what the operator's configuration uses), file and http: the cloud SDKs
# stay out of the build (a 73 MB binary, 99 MB with them).
$(KIND_BIN)/prometheus: tools/prometheus/go.mod tools/prometheus/go.sum
	@mkdir -p $(KIND_BIN)
	cd tools/prometheus && v=$$($(GO) list -m -f '{{.Version}}' github.com/prometheus/prometheus) && \
		n=$${v#v0.} && n=$${n%%.*} && v=$$((n / 100)).$$((n % 100)).$${v##*.} && \
		CGO_ENABLED=0 $(GO) build -trimpath -tags remove_all_sd,enable_kubernetes_sd -ldflags "-s -w $(call promver,$$v)" -o $(CURDIR)/$@.tmp github.com/prometheus/prometheus/cmd/prometheus
	mv $@.tmp $@

# Both as their release builds set their version (prometheus/common's
# package; kube-state-metrics's tag keeps its v).
$(KIND_BIN)/kube-state-metrics: tools/kubestate/go.mod tools/kubestate/go.sum
	@mkdir -p $(KIND_BIN)
	cd tools/kubestate && v=$$($(GO) list -m -f '{{.Version}}' k8s.io/kube-state-metrics/v2) && \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(call promver,$$v)" -o $(CURDIR)/$@.tmp k8s.io/kube-state-metrics/v2
	mv $@.tmp $@
$(KIND_BIN)/node_exporter: tools/nodeexporter/go.mod tools/nodeexporter/go.sum
	@mkdir -p $(KIND_BIN)
	cd tools/nodeexporter && v=$$($(GO) list -m -f '{{.Version}}' github.com/prometheus/node_exporter) && \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(call promver,$${v#v})" -o $(CURDIR)/$@.tmp github.com/prometheus/node_exporter
	mv $@.tmp $@

# The real monitoring.coreos.com CRDs, from the operator's module (the
# stand-in kube-prometheus-stack chart ships them: internal/lab/charts.go).
PROMOP_CRDS := .cache/promop/crds
crds: $(PROMOP_CRDS)/.done
$(PROMOP_CRDS)/.done: tools/promop/go.mod tools/promop/go.sum
	rm -rf $(PROMOP_CRDS) && mkdir -p $(PROMOP_CRDS)
	d=$$(cd tools/promop && $(GO) mod download github.com/prometheus-operator/prometheus-operator && \
		$(GO) list -m -f '{{.Dir}}' github.com/prometheus-operator/prometheus-operator) && \
		install -m 0644 $$d/example/prometheus-operator-crd/*.yaml $(PROMOP_CRDS)/
	touch $@

$(KIND_BIN)/pause: internal/kindlab/cmd/pause/main.go
	@mkdir -p $(KIND_BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $@ ./internal/kindlab/cmd/pause

# A learner's tools, on the kind tests' PATH (dojo check step-1 asks for
# them): helm from tools/helm (the version dojo's go.mod names, every module
# both use at dojo's version, built with bin/dojo's flags, so the packages
# Helm shares with dojo come from the build cache), kubectl the lab's build.
KIND_LEARNER_BIN := .cache/kind/learner-bin
kind-learner-tools: $(KIND_LEARNER_BIN)/helm $(KIND_LEARNER_BIN)/kubectl
$(KIND_LEARNER_BIN)/helm: tools/helm/go.mod tools/helm/go.sum
	@mkdir -p $(KIND_LEARNER_BIN)
	cd tools/helm && v=$$($(GO) list -m -f '{{.Version}}' helm.sh/helm/v4) && \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$$v" -o $(CURDIR)/$@.tmp helm.sh/helm/v4/cmd/helm
	mv $@.tmp $@
$(KIND_LEARNER_BIN)/kubectl: .cache/lab/bin/kubectl
	@mkdir -p $(KIND_LEARNER_BIN)
	cp $< $@

# Not in the node image: the kind tests load it under Traefik's image name
# (internal/lab/cmd/ingress-standin). Rebuilt every time, as kindrun; with
# bin/dojo's flags (static, -trimpath), so the packages they share come from
# the build cache.
.PHONY: $(KIND_BIN)/ingress-standin
$(KIND_BIN)/ingress-standin:
	@mkdir -p $(KIND_BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./internal/lab/cmd/ingress-standin

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
		K8S_VERSION=$(LAB_K8S_VERSION) NODE_IMAGE=$(KIND_NODE_IMAGE) REDIS_IMAGE=$(REDIS_IMAGE) CHAIN_IMAGES='$(KIND_CHAIN_IMAGES)' \
		KINDRUN=$(CURDIR)/$(KIND_BIN)/kindrun bash scripts/kind-node-image.sh $(CURDIR)/$(KIND_NODE_TAR); fi
	ln -sfn $(notdir $(KIND_NODE_TAR)) .cache/kind/node-image.tar

# Run CMD against a real kind cluster in the state right after `dojo up`
# (inside the run's namespace: DOCKER_HOST, KUBECONFIG and a scratch HOME set,
# bin/dojo on PATH), then delete it; exits with CMD's status.
kind-run: build kind-node-image kind-learner-tools
	$(KIND_BIN)/kindrun up -- bash -c '$(CMD)'

kind-shell: build kind-node-image kind-learner-tools
	$(KIND_BIN)/kindrun up -- bash -i

# Only the real-cluster suite, verbose.
kind-test: build kind-node-image kind-learner-tools crds
	$(GO) test -count=1 -v -timeout 30m ./internal/kindlab/...

kind-clean:
	rm -rf .cache/kind
