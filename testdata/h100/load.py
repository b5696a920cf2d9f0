# Keeps the GPUs busy while the campaign runs: each GPU alternates 4 s of bf16 matmuls with
# a pause whose length differs per GPU, so utilisation varies over time and across GPUs.
import sys, time, threading, torch
end = time.time() + float(sys.argv[1])
def work(dev):
    torch.cuda.set_device(dev)
    a = torch.randn(8192, 8192, device=f"cuda:{dev}", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=f"cuda:{dev}", dtype=torch.bfloat16)
    while time.time() < end:
        t = time.time()
        while time.time() - t < 4:
            for _ in range(20):
                c = a @ b
            torch.cuda.synchronize(dev)
        time.sleep(1 + dev)
threads = [threading.Thread(target=work, args=(d,)) for d in range(torch.cuda.device_count())]
[t.start() for t in threads]
[t.join() for t in threads]
