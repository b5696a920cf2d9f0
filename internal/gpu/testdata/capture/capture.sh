#!/bin/bash
# capture.sh: records real nvidia-smi output for llmscale's GPU telemetry parsers (issue 9).
# Run from the repo root on the GPU machine: bash .carry/gpu/capture.sh ; results in $OUT.
SRC=$(pwd)/.carry/gpu
D=/tmp/cap; rm -rf $D; mkdir -p $D
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
ev(){ echo "$EPOCHREALTIME $*" >> $D/events.log; }
run(){ local name=$1; shift; ev "begin $name: $*"; { timeout 60 "$@"; echo "[exit $?]"; } > $D/$name.txt 2>&1; ev "end $name"; }
stamp(){ while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
cpu(){ awk '{print $14, $15}' /proc/$1/stat 2>/dev/null; }
TCK=$(getconf CLK_TCK); ev "clk_tck $TCK"

# 1. static information
run smi nvidia-smi
run smi-L nvidia-smi -L
run smi-version nvidia-smi --version
run smi-q nvidia-smi -q
run smi-qx nvidia-smi -q -x
run smi-help nvidia-smi -h
run help-query-gpu nvidia-smi --help-query-gpu
run dmon-help nvidia-smi dmon -h
run topo-m nvidia-smi topo -m
run topo-p2p-n nvidia-smi topo -p2p n
run nvlink-s nvidia-smi nvlink -s
run nvlink-c nvidia-smi nvlink -c
run nvlink-h nvidia-smi nvlink -h
run proc-version cat /proc/driver/nvidia/version
run host sh -c 'uname -a; nproc; grep -m1 "model name" /proc/cpuinfo; free -g; ls /dev/nvidia*; which dcgmi nv-hostengine dcgm-exporter; python3 -c "import torch;print(torch.__version__, torch.version.cuda)"'
run mig-lgi nvidia-smi mig -lgi
run bad-field nvidia-smi --query-gpu=index,bogus.field --format=csv
run bad-id nvidia-smi -i 9 --query-gpu=index --format=csv

# 2. field list: a rich list, intersected with what this driver knows
grep '^"' $D/help-query-gpu.txt | grep -o '"[^"]*"' | tr -d '"' | sort -u > $D/valid-fields.txt
want="timestamp index uuid name pci.bus_id pstate utilization.gpu utilization.memory memory.total memory.used memory.free memory.reserved power.draw power.draw.average power.draw.instant power.limit enforced.power.limit power.max_limit clocks.sm clocks.mem clocks.gr clocks.max.sm clocks.max.mem temperature.gpu temperature.memory fan.speed clocks_event_reasons.active|clocks_throttle_reasons.active clocks_event_reasons.gpu_idle|clocks_throttle_reasons.gpu_idle clocks_event_reasons.sw_power_cap|clocks_throttle_reasons.sw_power_cap clocks_event_reasons.hw_slowdown|clocks_throttle_reasons.hw_slowdown clocks_event_reasons.hw_thermal_slowdown|clocks_throttle_reasons.hw_thermal_slowdown clocks_event_reasons.hw_power_brake_slowdown|clocks_throttle_reasons.hw_power_brake_slowdown clocks_event_reasons.sw_thermal_slowdown|clocks_throttle_reasons.sw_thermal_slowdown pcie.link.gen.current pcie.link.width.current utilization.encoder utilization.decoder mig.mode.current ecc.errors.uncorrected.volatile.total compute_mode"
for e in $(grep -iE 'energy|nvlink|throughput' $D/valid-fields.txt); do want="$want $e"; done
F=""
for w in $want; do for alt in ${w//|/ }; do if grep -qx "$alt" $D/valid-fields.txt; then F="$F,$alt"; break; fi; done; done
F=${F#,}
BASE="timestamp,index,uuid,name,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw,power.limit,clocks.sm,clocks.mem,temperature.gpu"
if [ -z "$F" ] || ! timeout 30 nvidia-smi --query-gpu=$F --format=csv > $D/q-header-idle.txt 2>&1; then ev "rich list failed: $F"; F=$BASE; run q-header-idle nvidia-smi --query-gpu=$F --format=csv; fi
echo "$F" > $D/fields-used.txt; ev "fields $F"
ALL=$(paste -sd, $D/valid-fields.txt)
run all-fields-idle nvidia-smi --query-gpu=$ALL --format=csv

# 3. idle -> busy (mm on GPU 0,1; p2p copy GPU 2->3) -> idle, sampled by -lms 200 and dmon
ev "window start"
nvidia-smi --query-gpu=$F --format=csv,noheader,nounits -lms 200 > >(stamp > $D/q-lms200.txt) 2>$D/q-lms200.err &
QPID=$!; QT0=$EPOCHREALTIME; ev "lms200 pid $QPID cpu0 $(cpu $QPID)"
nvidia-smi dmon -s pucvmet -d 1 -o DT -c 45 > >(stamp > $D/dmon-DT.txt) 2>&1 &
DPID=$!
sleep 4
run nvlink-gt-before nvidia-smi nvlink -gt d
ev "start mm"
CUDA_VISIBLE_DEVICES=0 python3 $SRC/load.py mm 22 > $D/load-mm0.txt 2>&1 &
M0=$!
CUDA_VISIBLE_DEVICES=1 python3 $SRC/load.py mm 22 > $D/load-mm1.txt 2>&1 &
M1=$!
sleep 10
ev "start p2p"
CUDA_VISIBLE_DEVICES=2,3 python3 $SRC/load.py p2p 9 > $D/load-p2p.txt 2>&1 &
P=$!
sleep 4
run q-header-busy nvidia-smi --query-gpu=$F --format=csv &
run all-fields-busy nvidia-smi --query-gpu=$ALL --format=csv &
run dmon-plain nvidia-smi dmon -s pucvmet -d 1 -c 6 &
run dmon-T nvidia-smi dmon -s pucvmet -d 1 -o T -c 4 &
run dmon-csv nvidia-smi dmon -s pucvmet -d 1 -c 3 --format csv &
run dmon-gpm nvidia-smi dmon --gpm-metrics 1,2,3,5,10,20,21,60,61 -d 1 -c 5 &
run q-busy-perf nvidia-smi -q -d PERFORMANCE,CLOCK,POWER,TEMPERATURE,UTILIZATION &
wait $P; ev "p2p done"
run nvlink-gt-after nvidia-smi nvlink -gt d
wait $M0 $M1; ev "mm done"
sleep 6
ev "lms200 comm $(cat /proc/$QPID/comm) cpu1 $(cpu $QPID) t0 $QT0 t1 $EPOCHREALTIME"
kill $QPID $DPID; wait $QPID $DPID 2>/dev/null
ev "window end"
wait

# 4. overhead: 20 spawned invocations vs one long-running -lms child
TIMEFORMAT='real %R user %U sys %S'
{ time (for i in $(seq 20); do nvidia-smi --query-gpu=$F --format=csv,noheader,nounits >/dev/null; done); } 2> $D/overhead-spawn20-rich.txt
{ time (for i in $(seq 20); do nvidia-smi --query-gpu=index,utilization.gpu,memory.used,power.draw --format=csv,noheader,nounits >/dev/null; done); } 2> $D/overhead-spawn20-small.txt
nvidia-smi --query-gpu=$F --format=csv,noheader,nounits -lms 200 > $D/overhead-lms200-out.txt 2>&1 &
L=$!; a=$(cpu $L); t0=$EPOCHREALTIME; sleep 10; b=$(cpu $L); t1=$EPOCHREALTIME; kill $L; wait $L 2>/dev/null
echo "lms200 10s: cpu_ticks_before $a after $b clk_tck $TCK wall $t0 $t1 lines $(wc -l < $D/overhead-lms200-out.txt)" > $D/overhead-lms200.txt
nvidia-smi --query-gpu=$F --format=csv,noheader,nounits -lms 100 > >(stamp > $D/q-lms100.txt) 2>&1 &
L=$!; a=$(cpu $L); sleep 5; b=$(cpu $L); kill $L; wait $L 2>/dev/null
echo "lms100 5s: cpu_ticks_before $a after $b" >> $D/overhead-lms200.txt
nvidia-smi dmon -s pucvmet -d 1 > /dev/null 2>&1 &
L=$!; a=$(cpu $L); sleep 5; b=$(cpu $L); kill $L; wait $L 2>/dev/null
echo "dmon pucvmet 5s: cpu_ticks_before $a after $b" >> $D/overhead-lms200.txt
sleep 0.5

tar czf $OUT/capture.tar.gz -C /tmp cap
cp $D/events.log $OUT/events.log
cd $D; for f in fields-used.txt overhead-*.txt load-*.txt topo-m.txt smi.txt dmon-gpm.txt nvlink-s.txt smi-version.txt; do echo "== $f"; head -c 3000 $f; done
echo "== q-lms200 head"; head -8 q-lms200.txt; echo "== dmon-DT head"; head -12 dmon-DT.txt
