"""Golden values for tests/Flock.Tests/Attacks (run with Debian's python3; writes TestData/attacks/).

1. normal_quantile.csv: p, Phi^-1(p) from Python's statistics.NormalDist (Wichura's AS241), each
   value cross-checked independently with math.erfc: Phi(x) = erfc(-x/sqrt(2))/2 must give p back.
2. alie_z.csv: n, f, s, probability, z for the ALIE paper rule s = floor(n/2 + 1) - f,
   z = Phi^-1((n - s)/n), and for the Karimireddy et al. code rule (n - f - s)/(n - f).
3. alie_torch.csv: ALIE vectors mu - z*sigma computed with torch (float32) on fixed inputs, with
   torch.std's default (unbiased, as the ALIE paper's code) and the population std.

LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/reference/attacks_golden.py
"""
import math
import os
from statistics import NormalDist

import torch

out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Flock.Tests", "TestData", "attacks")
os.makedirs(out, exist_ok=True)
nd = NormalDist()

ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-6, 1e-3, 0.01, 0.02425, 0.05, 0.075, 0.1, 0.2, 0.3, 0.4, 0.5,
      0.6, 0.65, 17 / 26, 0.68, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-6, 1 - 1e-10, 1 - 2 ** -52]
with open(os.path.join(out, "normal_quantile.csv"), "w") as fh:
    fh.write("p,x\n")
    for p in ps:
        x = nd.inv_cdf(p)
        back = 0.5 * math.erfc(-x / math.sqrt(2))
        # relative error of the round trip, measured on the smaller tail
        tail_p, tail_back = (p, back) if p < 0.5 else (1 - p, 0.5 * math.erfc(x / math.sqrt(2)))
        assert abs(tail_back - tail_p) <= 1e-14 * max(1.0, x * x) * tail_p, (p, x, back)  # condition number ~ x²
        fh.write(f"{p!r},{x!r}\n")

with open(os.path.join(out, "alie_z.csv"), "w") as fh:
    fh.write("n,f,s,p_paper,z_paper,p_honest,z_honest\n")
    for n, f in [(26, 5), (50, 10), (10, 2), (20, 4), (25, 5), (100, 20), (7, 1), (51, 12)]:
        s = math.floor(n / 2 + 1) - f
        pp = (n - s) / n
        ph = (n - f - s) / (n - f)
        fh.write(f"{n},{f},{s},{pp!r},{nd.inv_cdf(pp)!r},{ph!r},{nd.inv_cdf(ph)!r}\n")

g = torch.Generator().manual_seed(1234)
k, d = 7, 37
x = torch.randn(k, d, generator=g, dtype=torch.float32) * 3 + 0.5
z = 0.8
mu = x.mean(dim=0)
alie_sample = mu - z * x.std(dim=0)               # unbiased (k - 1), torch's default
alie_pop = mu - z * x.std(dim=0, unbiased=False)  # population (k)
with open(os.path.join(out, "alie_torch.csv"), "w") as fh:
    fh.write(f"# k={k} d={d} z={z}; rows: {k} inputs, then sample-std ALIE, then population-std ALIE\n")
    for row in list(x) + [alie_sample, alie_pop]:
        fh.write(",".join(repr(float(v)) for v in row) + "\n")
print("wrote", out)
