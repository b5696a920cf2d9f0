# GPU load for telemetry captures: bf16 matmul loop (mode mm) or peer copies (mode p2p).
import sys, time, torch
mode, secs = sys.argv[1], float(sys.argv[2])
if mode == "mm":
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn_like(a)
    torch.cuda.synchronize()
    print(f"mm start {time.time():.3f}", flush=True)
    t0, n = time.time(), 0
    while time.time() - t0 < secs:
        for _ in range(20):
            c = a @ b
        torch.cuda.synchronize()
        n += 20
    dt = time.time() - t0
    print(f"mm end {time.time():.3f} iters {n} tflops {n*2*8192**3/dt/1e12:.0f}", flush=True)
else:
    x = torch.empty(1 << 30, dtype=torch.uint8, device="cuda:0")
    y = torch.empty(1 << 30, dtype=torch.uint8, device="cuda:1")
    torch.cuda.synchronize(0); torch.cuda.synchronize(1)
    print(f"p2p start {time.time():.3f} can_access_peer {torch.cuda.can_device_access_peer(0,1)}", flush=True)
    t0, n = time.time(), 0
    while time.time() - t0 < secs:
        for _ in range(10):
            y.copy_(x)
        torch.cuda.synchronize(1)
        n += 10
    dt = time.time() - t0
    print(f"p2p end {time.time():.3f} copies {n} GBps {n*(1<<30)/dt/1e9:.1f}", flush=True)
