#!/usr/bin/env python3
"""Fits the rational erf used by Flock.Models.Engine.ActivationKernels.Erf.

erf(x) ≈ x·P(s)/Q(s), s = x²/4.5², degree 7/7, Q(0) = 1, for |x| < 4.5 (±1 beyond), by iteratively
re-weighted linear least squares against Python's math.erf. Prints the coefficients and the maximum
absolute error on a dense grid over [-10, 10] (about 1.7e-10). Needs only numpy: /usr/bin/python3 bench/reference/erf_fit.py
"""
import math

import numpy as np

X, M, N = 4.5, 7, 7


def fit(iters=30):
    n = 6000
    x = np.unique(np.concatenate([np.linspace(0, X, n), X * np.sin(np.linspace(0, np.pi / 2, n))]))
    s = x * x / (X * X)
    g = np.array([math.erf(v) / v if v > 0 else 2 / math.sqrt(math.pi) for v in x])
    ef = np.array([math.erf(v) for v in x])
    w = np.ones_like(s)
    best = None
    for _ in range(iters):
        a = np.hstack([np.vander(s, M + 1, increasing=True), -(g[:, None]) * np.vander(s, N + 1, increasing=True)[:, 1:]])
        wt = (w * x + 1e-3)[:, None]
        c, *_ = np.linalg.lstsq(a * wt, g * wt[:, 0], rcond=None)
        p, q = c[:M + 1], np.concatenate([[1.0], c[M + 1:]])
        qv = np.polyval(q[::-1], s)
        err = np.abs(x * np.polyval(p[::-1], s) / qv - ef).max()
        w = 1 / np.abs(qv)
        if best is None or err < best[0]:
            best = (err, p.copy(), q.copy())
    return best


def horner(c, s):
    r = 0.0
    for v in reversed(c):
        r = r * s + v
    return r


_, p, q = fit()
p = [float(repr(v)) for v in p]
q = [float(repr(v)) for v in q]
worst = 0.0
for i in range(200001):
    x = -10 + 20 * i / 200000
    y = (1.0 if x > 0 else -1.0) if abs(x) >= X else x * horner(p, x * x / (X * X)) / horner(q, x * x / (X * X))
    worst = max(worst, abs(y - math.erf(x)))
print("P", [repr(v) for v in p])
print("Q", [repr(v) for v in q])
print("max abs error on [-10, 10]:", worst)
