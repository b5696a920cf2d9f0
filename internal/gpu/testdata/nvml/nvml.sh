#!/bin/bash
# nv.sh: NVML against nvidia-smi under load (issue 9). Run from the repository root; writes to $OUT.
N=$(pwd)/.carry/nv; OUT=${OUT:-/tmp/out}; D=/tmp/nv; rm -rf $D; mkdir -p $D $OUT
ev(){ echo "$(date +%s.%N) $*" >> $D/events.log; }
P(){ # name binary source... : one 8 s probe on all 4 GPUs at a 250 ms grid
  local name=$1 bin=$2; shift 2
  ev "start $name"; timeout 40 $N/$bin gpu-probe --interval 250ms --duration 8s --out $D/$name "$@" > $D/probe-$name.txt 2>&1; echo "[exit $?]" >> $D/probe-$name.txt; ev "end $name"
}
nproc > $D/env.txt; grep -m1 'model name' /proc/cpuinfo >> $D/env.txt; nvidia-smi -L >> $D/env.txt; nvidia-smi --version >> $D/env.txt 2>&1
P nvml-idle llmscale-nvml --source nvml --duration 3s
ev "start load"
CUDA_VISIBLE_DEVICES=0 python3 $N/load.py mm 40 > $D/load-mm0.txt 2>&1 &
CUDA_VISIBLE_DEVICES=1 python3 $N/load.py mm 40 > $D/load-mm1.txt 2>&1 &
CUDA_VISIBLE_DEVICES=2,3 python3 $N/load.py p2p 40 > $D/load-p2p.txt 2>&1 &
for i in $(seq 60); do [ "$(cat $D/load-*.txt 2>/dev/null | grep -c ' start ')" -ge 3 ] && break; sleep 0.5; done
ev "load started"; sleep 2
P nvml llmscale-nvml --source nvml
P query llmscale --source query
P qd llmscale --source query+dmon &
P nvml-par llmscale-nvml --source nvml
wait
ev "done"
cd $D
for f in env.txt events.log load-*.txt; do echo "== $f"; cat $f; done > $OUT/log.txt
for f in probe-nvml-idle probe-nvml probe-query probe-qd probe-nvml-par; do echo "== $f"; sed -n '/^recorded/,$p;/^gpus /p;/^driver/p;/nvml/p;/error\|llmscale:\|\[exit/p' $f.txt | awk '!seen[$0]++'; done >> $OUT/log.txt
for n in nvml query qd nvml-par; do cp $D/$n/gpu.parquet $OUT/gpu-$n.parquet 2>/dev/null; done
cat $OUT/log.txt
