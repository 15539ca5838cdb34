#!/usr/bin/env bash
# Installs the Debian packages the tests run for real (never mocked).
# As root: `apt-get update` once, then `apt-get install -y` whatever is missing.
# Not root: prints what to install and exits 1.
#
# One line per command the tests need: "command package". Add a row, nothing else.
set -euo pipefail

TABLE='
redis-server      redis-server
redis-cli         redis-tools
docker            docker.io
dockerd           docker.io
mmdebstrap        mmdebstrap
busybox           busybox-static
jq                jq
curl              curl
iptables-save     iptables
etcd              etcd-server
prometheus        prometheus
prometheus-redis-exporter prometheus-redis-exporter
ip                iproute2
unshare           util-linux
qemu-aarch64-static qemu-user-static
chromium          chromium
'

missing=()
while read -r cmd pkg; do
	[ -z "${cmd:-}" ] && continue
	# Debian puts some daemons outside a non-root PATH (/usr/sbin), so look there too.
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ] && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/usr/local/bin/$cmd" ]; then
		missing+=("$pkg")
	fi
done <<<"$TABLE"

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "The tests need these Debian packages, which are not installed:" >&2
	echo "  sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi

echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Install only: no service starts (docker.io would start a Docker daemon; the
# tests want the docker client alone, and a daemon of their own later).
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
