#!/usr/bin/env bash
# Builds dojo's offline kind node image and saves it as a docker archive.
#
#   KINDRUN=.cache/kind/bin/kindrun … kind-node-image.sh OUT.tar
#
# No registry is asked for anything: the node's Debian root filesystem comes
# from the host's own apt sources (mmdebstrap), kind's base files from the kind
# module in the Go module cache, and every binary from a Go module built by
# mk/kind.mk. The images kubeadm runs (and the workshop images the tests
# need) are packaged here and imported into the node's containerd, so the
# cluster never pulls. Docker runs only under `kindrun docker --`, a dockerd
# of its own in a network namespace of its own (see docs/kind.md).
#
# Inputs (environment, set by mk/kind.mk):
#   KIND_BIN    kubelet kubeadm kube-scheduler kube-proxy etcd coredns crictl pause,
#               operator prometheus-config-reloader prometheus kube-state-metrics
#               node_exporter
#   LAB_BIN     kube-apiserver kube-controller-manager kubectl prometheus-adapter
#               (the lab's builds)
#   CHAIN_IMAGES the workshop chain's image names, one program=NAME per word
#               for operator, reloader, prometheus, exporter, adapter, ksm and
#               nodeexporter
#   KIND_BASE   kind's images/base/files directory
#   K8S_VERSION v1.37.2
#   NODE_IMAGE  the tag the node image gets
#   REDIS_IMAGE the image name the workshop's Redis chart runs
#   KINDRUN     internal/kindlab/cmd/kindrun, built
set -Eeuo pipefail
trap 'echo "kind-node-image: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

: "${KIND_BIN:?}" "${LAB_BIN:?}" "${KIND_BASE:?}" "${K8S_VERSION:?}" "${NODE_IMAGE:?}" "${REDIS_IMAGE:?}" "${CHAIN_IMAGES:?}"
docker=/usr/bin/docker # Debian's client, the daemon's own version
say() { printf 'kind-node-image: %s\n' "$*" >&2; }

# Versions kubeadm asks for (kubeadm config images list --kubernetes-version
# v1.37.2) and the pause tag kind's containerd config names.
ETCD_TAG=3.7.0-0
COREDNS_TAG=v1.14.6
PAUSE_TAGS="3.10.2 3.10"

# Two halves. On the host (apt's archive is reachable): the root filesystem.
# Then, in kindrun's namespace beside its dockerd (nothing is reachable):
# this script again with --in-namespace, for the images and the node image.
if [ "${1:-}" != --in-namespace ]; then
out=${1:?usage: kind-node-image.sh OUT.tar}
if [ "$(id -u)" -ne 0 ]; then
	say "needs root (mmdebstrap --mode=root, chroot, and dockerd under kindrun): run it as root (make test does, in CI)"
	exit 1
fi
: "${KINDRUN:?the kindrun binary (mk/kind.mk builds it)}"
work=$(mktemp -d "${TMPDIR:-/tmp}/dojo-kind-node-XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
# ---------------------------------------------------------------------------
# 1. The node's root filesystem: Debian bookworm, what kind's base image has.
say "root filesystem (mmdebstrap bookworm from the host's apt sources)"
packages=systemd,systemd-sysv,dbus,bash,procps,util-linux,mount,kmod,e2fsprogs
packages+=,iproute2,iptables,nftables,ebtables,ipset,conntrack,ethtool,socat
packages+=,containerd,runc,containernetworking-plugins,libseccomp2,pigz,ca-certificates,jq
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
mmdebstrap --quiet --mode=root --variant=minbase --include="$packages" bookworm "$rootfs" "$sources"

say "kind's base files and this machine's fixes"
install -m 0755 "$KIND_BASE"/usr/local/bin/* "$rootfs/usr/local/bin/"
mkdir -p "$rootfs/kind/bin" "$rootfs/kind/manifests" "$rootfs/etc/containerd" "$rootfs/etc/default" \
	"$rootfs/etc/sysctl.d" "$rootfs/etc/systemd/system/kubelet.service.d" "$rootfs/etc/kubernetes/manifests" \
	"$rootfs/etc/cni/net.d" "$rootfs/opt/cni/bin"
install -m 0755 "$KIND_BASE"/kind/bin/* "$rootfs/kind/bin/"
install -m 0644 "$KIND_BASE/etc/crictl.yaml" "$rootfs/etc/"
install -m 0644 "$KIND_BASE"/etc/sysctl.d/* "$rootfs/etc/sysctl.d/"
install -m 0644 "$KIND_BASE"/etc/systemd/system/*.service "$KIND_BASE/etc/systemd/system/kubelet.slice" "$rootfs/etc/systemd/system/"
install -m 0644 "$KIND_BASE"/etc/systemd/system/kubelet.service.d/* "$rootfs/etc/systemd/system/kubelet.service.d/"
# Inside the node runc cannot lower oom_score_adj on machines whose capability
# bounding set lacks CAP_SYS_RESOURCE; containerd then leaves it alone.
sed 's/^\( *restrict_oom_score_adj *=\).*/\1 true/' "$KIND_BASE/etc/containerd/config.toml" >"$rootfs/etc/containerd/config.toml"
grep -q 'restrict_oom_score_adj = true' "$rootfs/etc/containerd/config.toml"
# kubelet 1.37 refuses a cgroup v1 host unless told not to.
printf '%s --fail-cgroupv1=false\n' "$(cat "$KIND_BASE/etc/default/kubelet")" >"$rootfs/etc/default/kubelet"
# kind's units start /usr/local/bin/containerd; Debian's is in /usr/bin.
ln -sf /usr/bin/containerd "$rootfs/usr/local/bin/containerd"
# CRI looks for plugins in /opt/cni/bin; Debian installs them in /usr/lib/cni.
for p in "$rootfs"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/${p##*/}" "$rootfs/opt/cni/bin/"; done
# kindnetd is not built here. Its STAND-IN: a bridge network on the one node,
# whose configuration a DaemonSet writes into /etc/cni/net.d when kind's
# "Installing CNI" step applies it, as kindnetd does; until then the node is
# not Ready and only host-network pods (kube-proxy) start, as on kind's own
# image. It writes it once kube-proxy has programmed the Services: CoreDNS
# started before that dials the API's Service address into nothing and waits
# out a 30 s timeout (seen here: cluster DNS ready 14 s or 52 s after the
# node, depending on that race); kindnetd does not wait, so on kind's own
# image the race is possible too.
cat >"$rootfs/kind/manifests/default-cni.yaml" <<'EOF'
# STAND-IN for kindnetd in dojo's offline node image (scripts/kind-node-image.sh):
# a bridge network on the one node, pod subnet 10.244.0.0/16 (kind's default).
apiVersion: v1
kind: ConfigMap
metadata:
  name: dojo-cni-standin
  namespace: kube-system
data:
  10-dojo-bridge.conflist: |
    {
      "cniVersion": "0.4.0",
      "name": "dojo-bridge",
      "plugins": [
        {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
        {"type": "portmap", "capabilities": {"portMappings": true}}
      ]
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: dojo-cni-standin
  namespace: kube-system
  labels: {app: dojo-cni-standin}
spec:
  selector:
    matchLabels: {app: dojo-cni-standin}
  template:
    metadata:
      labels: {app: dojo-cni-standin}
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations: [{operator: Exists}]
      terminationGracePeriodSeconds: 1
      containers:
        - name: install
          image: localhost/dojo-cni-standin:v1
          imagePullPolicy: Never
          # Waits (60 s at most) until kube-proxy's /healthz says its rules
          # are in place, so that pods started once the node is Ready reach
          # the API's Service address at once.
          command:
            - /bin/sh
            - -c
            - |
              for i in $(seq 60); do
                printf 'GET /healthz HTTP/1.0\r\n\r\n' | nc -w 2 127.0.0.1 10256 2>/dev/null | grep -q ' 200 ' && break
                sleep 1
              done
              cp /config/10-dojo-bridge.conflist /host/net.d/.dojo.tmp
              mv /host/net.d/.dojo.tmp /host/net.d/10-dojo-bridge.conflist
              while :; do sleep 3600; done
          volumeMounts:
            - {name: config, mountPath: /config}
            - {name: net-d, mountPath: /host/net.d}
      volumes:
        - name: config
          configMap: {name: dojo-cni-standin}
        - name: net-d
          hostPath: {path: /etc/cni/net.d, type: DirectoryOrCreate}
EOF
# systemd in a container, as kind's base image sets it up.
find "$rootfs/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
rm -f "$rootfs"/lib/systemd/system/multi-user.target.wants/* "$rootfs"/etc/systemd/system/*.wants/* \
	"$rootfs"/lib/systemd/system/local-fs.target.wants/* "$rootfs"/lib/systemd/system/sockets.target.wants/*udev* \
	"$rootfs"/lib/systemd/system/sockets.target.wants/*initctl* "$rootfs"/lib/systemd/system/basic.target.wants/*
echo ReadKMsg=no >>"$rootfs/etc/systemd/journald.conf"
ln -sf /usr/lib/systemd/systemd "$rootfs/sbin/init"
chroot "$rootfs" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
chroot "$rootfs" systemctl mask systemd-binfmt.service >/dev/null 2>&1
chroot "$rootfs" ctr oci spec |
	jq '.hooks.createContainer += [{"path": "/kind/bin/mount-product-files.sh"}] | del(.process.rlimits)' \
		>"$rootfs/etc/containerd/cri-base.json"
install -m 0755 "$KIND_BIN/kubelet" "$KIND_BIN/kubeadm" "$LAB_BIN/kubectl" "$KIND_BIN/crictl" "$rootfs/usr/bin/"
printf '%s' "$K8S_VERSION" >"$rootfs/kind/version"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*


"$KINDRUN" docker -- bash "$0" --in-namespace "$work" "$out"
exit 0
fi

work=$2 out=$3
rootfs=$work/rootfs
: "${DOCKER_HOST:?run under kindrun docker, which sets DOCKER_HOST}"
builder=""
trap '[ -z "$builder" ] || $docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
# ---------------------------------------------------------------------------
# 2. The images the node runs, each a busybox with one program (and the
# libraries it links), saved for containerd.
images=$work/images
mkdir -p "$images"
busybox=$(command -v busybox)
skeleton() { # dir: busybox, /etc files, empty mount points
	local d=$1
	mkdir -p "$d"/{bin,usr/local/bin,usr/sbin,etc,tmp,proc,sys,dev,run,var,data}
	cp "$busybox" "$d/bin/busybox"
	with_libs "$d" "$busybox"
	for a in $("$busybox" --list); do [ -e "$d/bin/$a" ] || ln -s busybox "$d/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$d/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
	echo 'hosts: files dns' >"$d/etc/nsswitch.conf"
	chmod 1777 "$d/tmp"
}
with_libs() { # dir binary...: the shared libraries each binary loads
	local d=$1 b l
	shift
	for b in "$@"; do
		{ ldd "$b" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | while read -r l; do
			mkdir -p "$d$(dirname "$l")"
			cp -L "$l" "$d$l"
		done
	done
}
from_rootfs() { # dir package...: a Debian package's files, from the node's rootfs
	local d=$1 p f
	shift
	for p in "$@"; do
		chroot "$rootfs" dpkg -L "$p" | while read -r f; do
			case "$f" in /usr/share/*) continue ;; esac
			if [ -f "$rootfs$f" ] || [ -L "$rootfs$f" ]; then
				mkdir -p "$d$(dirname "$f")"
				cp -a "$rootfs$f" "$d$f"
			fi
		done
	done
}
package() { # name dir entrypoint-json [label...]: import, tag, save
	local name=$1 dir=$2 entrypoint=$3 file
	shift 3
	local changes=(-c 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c "ENTRYPOINT $entrypoint")
	for l in "$@"; do changes+=(-c "LABEL $l"); done
	file=$images/$(echo "$name" | tr '/:' '__').tar
	tar -C "$dir" -c . | $docker import "${changes[@]}" - "$name" >/dev/null
	$docker save "$name" -o "$file"
	say "image $name ($(du -h "$file" | cut -f1))"
}
made='io.kubedojo.packaged=offline-node-image'

for c in kube-apiserver kube-controller-manager; do
	d=$work/img-$c
	skeleton "$d"
	cp "$LAB_BIN/$c" "$d/usr/local/bin/"
	with_libs "$d" "$LAB_BIN/$c"
	package "registry.k8s.io/$c:$K8S_VERSION" "$d" "[\"/usr/local/bin/$c\"]" "$made"
done
d=$work/img-kube-scheduler
skeleton "$d"
cp "$KIND_BIN/kube-scheduler" "$d/usr/local/bin/"
with_libs "$d" "$KIND_BIN/kube-scheduler"
package "registry.k8s.io/kube-scheduler:$K8S_VERSION" "$d" '["/usr/local/bin/kube-scheduler"]' "$made"

# kube-proxy programs iptables: Debian's, both back ends, and a chooser that
# picks the one the node already uses (more rules wins; legacy on a tie), as
# kind's own image does.
d=$work/img-kube-proxy
skeleton "$d"
cp "$KIND_BIN/kube-proxy" "$d/usr/local/bin/"
with_libs "$d" "$KIND_BIN/kube-proxy"
from_rootfs "$d" libc6 iptables libxtables12 libip4tc2 libip6tc2 libnftnl11 libmnl0 libnetfilter-conntrack3 \
	libnfnetlink0 libnftables1 libjansson4 libgmp10 libedit2 libbsd0 libmd0 libtinfo6 conntrack
cat >"$d/usr/sbin/iptables-wrapper" <<'EOF'
#!/bin/sh
# Choose iptables' back end once: the one holding more rules (legacy on a tie).
legacy=$( (xtables-legacy-multi iptables-save; xtables-legacy-multi ip6tables-save) 2>/dev/null | grep -c '^-')
nft=$( (xtables-nft-multi iptables-save; xtables-nft-multi ip6tables-save) 2>/dev/null | grep -c '^-')
mode=legacy
[ "$nft" -gt "$legacy" ] && mode=nft
for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -sf "xtables-$mode-multi" "/usr/sbin/$c"
done
exec "$0" "$@"
EOF
chmod 0755 "$d/usr/sbin/iptables-wrapper"
for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -sf iptables-wrapper "$d/usr/sbin/$c"
done
package "registry.k8s.io/kube-proxy:$K8S_VERSION" "$d" '["/usr/local/bin/kube-proxy"]' "$made"

d=$work/img-etcd
skeleton "$d"
cp "$KIND_BIN/etcd" "$d/usr/local/bin/"
with_libs "$d" "$KIND_BIN/etcd"
package "registry.k8s.io/etcd:$ETCD_TAG" "$d" '["/usr/local/bin/etcd"]' "$made"

d=$work/img-coredns
skeleton "$d"
cp "$KIND_BIN/coredns" "$d/coredns"
with_libs "$d" "$KIND_BIN/coredns"
package "registry.k8s.io/coredns/coredns:$COREDNS_TAG" "$d" '["/coredns"]' "$made"

d=$work/img-pause
mkdir -p "$d"
cp "$KIND_BIN/pause" "$d/pause"
first=""
for tag in $PAUSE_TAGS; do
	if [ -z "$first" ]; then
		package "registry.k8s.io/pause:$tag" "$d" '["/pause"]' "$made"
		first=$tag
	else
		$docker tag "registry.k8s.io/pause:$first" "registry.k8s.io/pause:$tag"
		$docker save "registry.k8s.io/pause:$tag" -o "$images/registry.k8s.io_pause_$tag.tar"
	fi
done

# The CNI stand-in's image (see default-cni.yaml above): busybox alone.
d=$work/img-cni-standin
skeleton "$d"
package localhost/dojo-cni-standin:v1 "$d" '["/bin/sh"]' "$made" "io.kubedojo.stand-in=kindnetd"

# The workshop's Redis: Debian's redis-server and redis-cli (real Redis, of
# Debian's version, not the chart's tag), under the name the chart runs.
# Debian's build keeps protected mode on, which refuses other pods; the
# entrypoint turns it off, as the Docker Hub image's build does.
d=$work/img-redis
skeleton "$d"
cp /usr/bin/redis-server /usr/bin/redis-cli "$d/usr/local/bin/"
with_libs "$d" /usr/bin/redis-server /usr/bin/redis-cli
cat >"$d/usr/local/bin/entrypoint" <<'EOF'
#!/bin/sh
if [ "$1" = redis-server ]; then
	shift
	exec redis-server --protected-mode no "$@"
fi
exec "$@"
EOF
chmod 0755 "$d/usr/local/bin/entrypoint"
redis_version=$(dpkg-query -W -f '${Version}' redis-server)
package "$REDIS_IMAGE" "$d" '["/usr/local/bin/entrypoint"]' "$made" \
	"io.kubedojo.contents=debian-redis-server-$redis_version"

# The workshop chain, real programs under the names the pinned charts run:
# the Prometheus operator, its config reloader and Prometheus built from their
# Go modules (Prometheus without its web UI's assets: the API is all dojo and
# the adapter use), the adapter built from its module (the lab's build), and
# Debian's prometheus-redis-exporter (its own version, not the chart's tag: the
# exporter's module is not served). Entry points as in the upstream images.
chain_image() { # program: the image name CHAIN_IMAGES gives it
	local w
	for w in $CHAIN_IMAGES; do
		[ "${w%%=*}" = "$1" ] && { echo "${w#*=}"; return; }
	done
	say "CHAIN_IMAGES names no image for $1"
	exit 1
}
for c in operator prometheus-config-reloader prometheus; do
	d=$work/img-$c
	skeleton "$d"
	cp "$KIND_BIN/$c" "$d/bin/$c"
	mkdir -p "$d/prometheus" "$d/etc/prometheus"
	chmod 0777 "$d/prometheus"
	case $c in
	operator) name=$(chain_image operator) ;;
	prometheus-config-reloader) name=$(chain_image reloader) ;;
	prometheus) name=$(chain_image prometheus) ;;
	esac
	package "$name" "$d" "[\"/bin/$c\"]" "$made" "io.kubedojo.contents=built-from-go-module"
done
d=$work/img-adapter
skeleton "$d"
cp "$LAB_BIN/prometheus-adapter" "$d/adapter"
with_libs "$d" "$LAB_BIN/prometheus-adapter"
name=$(chain_image adapter)
package "$name" "$d" '["/adapter"]' "$made" "io.kubedojo.contents=built-from-go-module"
# kube-state-metrics and node_exporter, which kube-prometheus-stack runs by
# default, built from their modules; entry points as upstream's images.
d=$work/img-ksm
skeleton "$d"
cp "$KIND_BIN/kube-state-metrics" "$d/kube-state-metrics"
name=$(chain_image ksm)
package "$name" "$d" '["/kube-state-metrics", "--port=8080", "--telemetry-port=8081"]' "$made" "io.kubedojo.contents=built-from-go-module"
d=$work/img-node-exporter
skeleton "$d"
cp "$KIND_BIN/node_exporter" "$d/bin/node_exporter"
name=$(chain_image nodeexporter)
package "$name" "$d" '["/bin/node_exporter"]' "$made" "io.kubedojo.contents=built-from-go-module"
d=$work/img-exporter
skeleton "$d"
cp /usr/bin/prometheus-redis-exporter "$d/redis_exporter"
with_libs "$d" /usr/bin/prometheus-redis-exporter
exporter_version=$(dpkg-query -W -f '${Version}' prometheus-redis-exporter)
name=$(chain_image exporter)
package "$name" "$d" '["/redis_exporter"]' "$made" \
	"io.kubedojo.contents=debian-prometheus-redis-exporter-$exporter_version"

# ---------------------------------------------------------------------------
# 3. The node image: the root filesystem, then, in a throwaway container,
# every image imported into containerd (what kind's own build does), then
# committed. --init: something must reap containerd once it is stopped.
say "node image $NODE_IMAGE"
base=dojo-kind-base:build-$$
tar -C "$rootfs" -c . | $docker import -c 'ENV container=docker' -c 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' - "$base" >/dev/null
builder=dojo-kind-node-build-$$
$docker run -d --init --name "$builder" --privileged --security-opt seccomp=unconfined --entrypoint=sleep \
	-v "$images:/kind/images-in:ro" "$base" infinity >/dev/null
$docker exec "$builder" bash -c 'containerd >/var/log/containerd-build.log 2>&1 &'
$docker exec "$builder" bash -c 'for i in $(seq 50); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; cat /var/log/containerd-build.log; exit 1'
$docker exec "$builder" bash -c 'set -e; for f in /kind/images-in/*.tar; do ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests "$f" >/dev/null; done'
# Every image kubeadm will ask for must be there, under its exact name.
want=$($docker exec "$builder" kubeadm config images list --kubernetes-version "$K8S_VERSION")
have=$($docker exec "$builder" ctr --namespace=k8s.io images list -q)
for w in $want; do
	grep -qx "$w" <<<"$have" || {
		say "kubeadm needs $w, which was not packaged (have: $(echo $have))"
		exit 1
	}
done
$docker exec "$builder" bash -c 'pkill containerd; for i in $(seq 50); do pgrep containerd >/dev/null || exit 0; sleep 0.2; done; exit 1'
$docker exec "$builder" rm -f /var/log/containerd-build.log
$docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
	--change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
	--change "LABEL $made io.kubedojo.kubernetes=$K8S_VERSION" "$builder" "$NODE_IMAGE" >/dev/null
$docker rm -f "$builder" >/dev/null
builder=""
$docker rmi "$base" >/dev/null

mkdir -p "$(dirname "$out")"
$docker save "$NODE_IMAGE" -o "$out.tmp"
mv "$out.tmp" "$out"
say "saved $NODE_IMAGE to $out ($(du -h "$out" | cut -f1))"
