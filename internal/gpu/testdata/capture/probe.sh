#!/bin/bash
# probe.sh: runs llmscale gpu-probe on 1, 2 and 4 GPUs under load (issue 9), plus raw captures.
SRC=$(pwd)/.carry/gpu; L=$SRC/llmscale
D=/tmp/probe; rm -rf $D; mkdir -p $D; OUT=${OUT:-/tmp/out}; mkdir -p $OUT
ev(){ echo "$EPOCHREALTIME $*" >> $D/events.log; }
F=$(echo index,uuid,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw,power.draw.instant,enforced.power.limit,clocks.sm,clocks.mem,temperature.gpu,temperature.memory,pstate,clocks_event_reasons.active,clocks_event_reasons_counters.sw_power_cap,clocks_event_reasons_counters.sw_thermal_slowdown,clocks_event_reasons_counters.hw_thermal_slowdown,clocks_event_reasons_counters.hw_power_brake_slowdown,pcie.link.gen.current,pcie.link.width.current,ecc.errors.uncorrected.volatile.total,mig.mode.current,name)
echo "$F" > $D/default-fields.txt
nvidia-smi --query-gpu=$F --format=csv > $D/q-default-header-idle.csv 2>&1; echo "exit $?" >> $D/q-default-header-idle.csv
nvidia-smi --query-gpu=$F --format=csv,noheader,nounits > $D/q-default-idle.csv 2>&1
ev "start mm"
CUDA_VISIBLE_DEVICES=0 python3 $SRC/load.py mm 34 > $D/load-mm0.txt 2>&1 &
CUDA_VISIBLE_DEVICES=1 python3 $SRC/load.py mm 34 > $D/load-mm1.txt 2>&1 &
sleep 7
timeout 20 nvidia-smi dmon -s pucv -d 1 -c 4 --format csv --gpm-metrics 1,2,3,5,10,20,21,60,61 > $D/dmon-pucv-gpm-csv.txt 2>&1 &
nvidia-smi --query-gpu=$F --format=csv,noheader,nounits > $D/q-default-busy.csv 2>&1
nvidia-smi --query-gpu=$F --format=csv > $D/q-default-header-busy.csv 2>&1
ev "probe 1 gpu"; timeout 40 $L gpu-probe --gpus 0 --interval 500ms --duration 6s --out $D/p1 > $D/probe-1gpu.txt 2>&1
ev "probe 2 gpus"; timeout 40 $L gpu-probe --gpus 0,1 --interval 500ms --duration 6s --out $D/p2 > $D/probe-2gpu.txt 2>&1
ev "start p2p"; CUDA_VISIBLE_DEVICES=2,3 python3 $SRC/load.py p2p 9 > $D/load-p2p.txt 2>&1 &
sleep 3
ev "probe 4 gpus"; timeout 40 $L gpu-probe --interval 250ms --duration 7s --out $D/p4 > $D/probe-4gpu.txt 2>&1
wait
ev "idle probes"
timeout 40 $L gpu-probe --source query --interval 200ms --duration 5s --out $D/pq > $D/probe-query-idle.txt 2>&1
timeout 40 $L gpu-probe --source dmon --interval 1s --duration 5s --out $D/pd > $D/probe-dmon-idle.txt 2>&1
timeout 40 $L gpu-probe --source query+dmon --interval 1s --duration 5s --out $D/pqd > $D/probe-querydmon-idle-1s.txt 2>&1
ev "done"
tar czf $OUT/probe.tar.gz -C /tmp probe
cd $D; for f in probe-*.txt dmon-pucv-gpm-csv.txt q-default-busy.csv load-*.txt; do echo "== $f"; grep -v -E '^  [A-Z#X]|^$|Legend|^GPU[0-9]|^\s+.\[4m' $f | head -c 2500; done
