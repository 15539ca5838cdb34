#!/bin/bash
# dockerd's OCI runtime in the kind tests: runc, after taking out of a
# container's capabilities (config.json in its bundle) and out of an exec's
# (the --process file) the one this machine's capability bounding set lacks.
# Docker 20.10 asks for every capability the kernel knows for a --privileged
# container (a kind node), and runc refuses what the bounding set cannot give:
# "unable to apply caps: operation not permitted". Elsewhere it changes nothing.
set -u
missing=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
drop='[]'
# CAP_SYS_RESOURCE is bit 24.
if [ -n "$missing" ] && [ $(( 0x$missing >> 24 & 1 )) -eq 0 ]; then
	drop='["CAP_SYS_RESOURCE"]'
fi
bundle="" process="" prev=""
for a in "$@"; do
	case "$prev" in --bundle | -b) bundle=$a ;; --process | -p) process=$a ;; esac
	case "$a" in --bundle=*) bundle=${a#--bundle=} ;; --process=*) process=${a#--process=} ;; esac
	prev=$a
done
strip() { # file jq-path
	local f=$1 path=$2
	[ -f "$f" ] || return 0
	jq --argjson drop "$drop" "if $path then $path |= with_entries(.value |= (if type == \"array\" then map(select(. as \$c | \$drop | index(\$c) | not)) else . end)) else . end" "$f" >"$f.dojo" &&
		mv "$f.dojo" "$f"
}
if [ "$drop" != '[]' ]; then
	[ -n "$bundle" ] && strip "$bundle/config.json" .process.capabilities
	[ -n "$process" ] && strip "$process" .capabilities
fi
exec /usr/sbin/runc "$@"
