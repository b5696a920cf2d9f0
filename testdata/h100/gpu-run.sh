#!/bin/bash
# Issue 9 on a GPU machine: topology, then a sim campaign with real GPU telemetry.
set -u
cd .carry
export PATH=$PATH:/usr/bin
nvidia-smi -L > $OUT/nvidia-smi-L.txt 2>&1
nvidia-smi topo -m > $OUT/topo.txt 2>&1
python3 load.py 330 > $OUT/load.log 2>&1 &
LOAD=$!
sleep 8
./llmscale plan --matrix gpu.yaml > $OUT/plan.txt 2>&1
/usr/bin/time -v ./llmscale run --matrix gpu.yaml --results res --no-analysis > $OUT/run.log 2>&1
echo "run exit $?" >> $OUT/run.log
kill $LOAD 2>/dev/null
wait
tar czf $OUT/results.tar.gz res
ls -la res/raw/*/ | head -80 >> $OUT/run.log
