"""GFLOP/s of torch.mm (float32, CPU) on given shapes, for the native-gemm benchmark.
Input: --shapes JSON [[m, n, k, transposeA, transposeB], ...]; prints one JSON line:
{"gflops": [...], "blas": "..."} with the best of several timed repetitions per shape."""
import argparse
import json
import time

import torch


def gflops(m, n, k, ta, tb, budget_flops):
    a = torch.randn(k, m).t() if ta else torch.randn(m, k)
    b = torch.randn(n, k).t() if tb else torch.randn(k, n)
    out = torch.empty(m, n)
    flops = 2.0 * m * n * k
    reps = max(3, int(budget_flops / flops))
    for _ in range(3):
        torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / reps)
    return flops / best / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=2e8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shapes = json.loads(args.shapes)
    results = [gflops(m, n, k, bool(ta), bool(tb), args.budget) for m, n, k, ta, tb in shapes]
    config = torch.__config__.show()
    blas = next((line.strip() for line in config.splitlines() if "BLAS_INFO" in line), "unknown")
    print(json.dumps({"gflops": results, "blas": blas}))


if __name__ == "__main__":
    main()
