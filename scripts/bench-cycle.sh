#!/bin/bash
# One container's life as podman drives it: create (with a pid file), start,
# wait for the process to exit, delete.  Usage: bench-cycle.sh RUNTIME ROOT BUNDLE ID
# (RUNTIME may be a command with arguments, e.g. "crun --cgroup-manager=cgroupfs").
set -e
rt=$1 root=$2 bundle=$3 id=$4
pidfile=$(mktemp -u /tmp/bench-pid.XXXXXX)
$rt --root "$root" create --bundle "$bundle" --pid-file "$pidfile" "$id"
pid=$(<"$pidfile")
rm -f "$pidfile"
$rt --root "$root" start "$id"
# wait: the process is gone, or a zombie (its parent may not be us)
while read -r stat 2>/dev/null </proc/$pid/stat && [[ $stat != *") Z "* ]]; do :; done
$rt --root "$root" delete "$id"
