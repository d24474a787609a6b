"""The CPU's matmul rate as torch sees it: the denominator of the training MFU.

    python tests/bench/matmul_rate.py [--size 2048] [--seconds 3]   -> RESULT={"fp32_gflops": ..., "bf16_gflops": ...}

Square matrices multiplied back to back for about ``--seconds`` per dtype on all the threads the
training uses (TUNESMITH_THREADS, else every core); the best of three windows (the least disturbed
by other work on the machine). bf16 runs on AMX tiles where the CPU has them.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def rate(torch, size: int, dtype, seconds: float) -> float:
    a = torch.randn(size, size, dtype=dtype)
    b = torch.randn(size, size, dtype=dtype)
    torch.mm(a, b)  # warm-up: first call allocates and picks kernels
    best = 0.0
    for _ in range(3):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / 3:
            torch.mm(a, b)
            count += 1
        elapsed = time.perf_counter() - started
        best = max(best, 2 * size**3 * count / elapsed / 1e9)
    return round(best, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("TUNESMITH_THREADS") or os.cpu_count() or 1))
    out = {"fp32_gflops": rate(torch, args.size, torch.float32, args.seconds),
           "bf16_gflops": rate(torch, args.size, torch.bfloat16, args.seconds),
           "size": args.size, "threads": torch.get_num_threads()}
    print("RESULT=" + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
