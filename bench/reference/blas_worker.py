#!/usr/bin/env python3
"""Reference sgemm timer driven by bench/Flock.Bench (GemmBench) over stdin/stdout.

Run with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 so
numpy's BLAS is single-threaded OpenBLAS (pthread build). The first line it prints proves which
BLAS library is loaded (from /proc/self/maps) and how many threads it uses (asked from the
library itself through ctypes, no threadpoolctl needed).

Protocol (one command per line, one reply line each):
  setup ID TA TB M N K   -> "ok"         make float32 operands for C = op(A) op(B) (TA/TB 0 or 1)
  time ID REPS           -> "<seconds>"  seconds per call of np.matmul(opA, opB, out=C), REPS calls
  quit
"""
import ctypes
import sys
import time

import numpy as np


def blas_info():
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.split()[-1]})
    openblas = [p for p in libs if "libopenblas" in p]
    config, threads = "unknown", -1
    if openblas:
        lib = ctypes.CDLL(openblas[0])
        lib.openblas_get_config.restype = ctypes.c_char_p
        config = lib.openblas_get_config().decode()
        threads = lib.openblas_get_num_threads()
    return libs, config, threads


def main():
    # Touch BLAS once so the library is certainly mapped.
    np.ones((2, 2), np.float32) @ np.ones((2, 2), np.float32)
    libs, config, threads = blas_info()
    print(f"ready numpy={np.__version__} threads={threads} config={config!r} libs={','.join(libs)}", flush=True)
    rng = np.random.default_rng(1)
    cases = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        if parts[0] == "setup":
            cid, ta, tb, m, n, k = parts[1], *map(int, parts[2:])
            a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
            b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
            cases[cid] = (a.T if ta else a, b.T if tb else b, np.zeros((m, n), np.float32))
            print("ok", flush=True)
        elif parts[0] == "time":
            a, b, c = cases[parts[1]]
            reps = int(parts[2])
            t0 = time.perf_counter()
            for _ in range(reps):
                np.matmul(a, b, out=c)
            print(f"{(time.perf_counter() - t0) / reps:.9e}", flush=True)
        else:
            print(f"error unknown command {parts[0]!r}", flush=True)


if __name__ == "__main__":
    main()
