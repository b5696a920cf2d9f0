#!/bin/bash
# Second NVML measurement: the source now reads slow-changing values once a second.
cd .carry/nv2
python3 - <<'PY' > load.log 2>&1 &
import time, threading, torch
end = time.time() + 40
def mm(d):
    torch.cuda.set_device(d); a = torch.randn(8192, 8192, device=f"cuda:{d}", dtype=torch.bfloat16)
    while time.time() < end:
        for _ in range(20): a @ a
        torch.cuda.synchronize(d)
ts = [threading.Thread(target=mm, args=(d,)) for d in (0, 1)]; [t.start() for t in ts]; [t.join() for t in ts]
PY
sleep 6
for s in nvml query query+dmon; do
  echo "=== $s"; ./llmscale-nvml gpu-probe --source $s --interval 250ms --duration 8s --out p-$s 2>&1 | tail -25
done
wait
