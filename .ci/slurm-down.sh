#!/usr/bin/env bash
# Stops the one-node test cluster that .ci/slurm-up.sh started (slurmd, slurmctld, and munged
# when it was started for it). Safe to run when nothing is running.
set -euo pipefail

dir=${LLMSCALE_SLURM_DIR:-/tmp/llmscale-slurm}

stop() {
	local pidfile=$1
	[ -s "$pidfile" ] || return 0
	local pid
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

stop "$dir/slurmd.pid"
stop "$dir/slurmctld.pid"
if [ "${1:-}" = "--munge" ]; then
	stop /run/munge/munged.pid
fi
