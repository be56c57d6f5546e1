"""Golden values for Flock's Topology tests (Metropolis-Hastings weights + eigenvalues).

Builds a random graph independently of Flock (numpy's generator: a Hamiltonian cycle on a random
permutation plus G(n, p) edges, so it is connected and irregular), writes it as an edge list, builds
the Metropolis-Hastings matrix W_ij = 1/(1+max(d_i, d_j)) with numpy and writes all eigenvalues of W
(numpy.linalg.eigvalsh, LAPACK) in descending order.

Run: /usr/bin/python3 bench/reference/topology_spectrum.py
Outputs: tests/Flock.Tests/TestData/Topology/random60.edges, random60.mh-eigenvalues.txt
"""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Flock.Tests", "TestData", "Topology")
os.makedirs(out, exist_ok=True)
n, p = 60, 0.06
rng = np.random.default_rng(20240611)
perm = rng.permutation(n)
edges = set()
for i in range(n):
    u, v = int(perm[i]), int(perm[(i + 1) % n])
    edges.add((min(u, v), max(u, v)))
for u in range(n):
    for v in range(u + 1, n):
        if rng.random() < p:
            edges.add((u, v))
edges = sorted(edges)
A = np.zeros((n, n))
for u, v in edges:
    A[u, v] = A[v, u] = 1
deg = A.sum(axis=1)
W = np.zeros((n, n))
for u, v in edges:
    W[u, v] = W[v, u] = 1.0 / (1.0 + max(deg[u], deg[v]))
W[np.diag_indices(n)] = 1.0 - W.sum(axis=1)
ev = np.sort(np.linalg.eigvalsh(W))[::-1]
with open(os.path.join(out, "random60.edges"), "w") as f:
    f.write(f"# {n} nodes, {len(edges)} edges: random Hamiltonian cycle + G(n, {p}); see bench/reference/topology_spectrum.py\n")
    for u, v in edges:
        f.write(f"{u} {v}\n")
with open(os.path.join(out, "random60.mh-eigenvalues.txt"), "w") as f:
    f.write("# eigenvalues of the Metropolis-Hastings matrix of random60.edges, descending (numpy.linalg.eigvalsh)\n")
    for x in ev:
        f.write(f"{x:.17g}\n")
print(len(edges), "edges; gap", 1 - max(abs(ev[1]), abs(ev[-1])))
