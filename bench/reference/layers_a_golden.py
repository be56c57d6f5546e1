#!/usr/bin/env python3
"""Golden values for Flock's layers-a layers (GELU, LayerNorm, Tanh, Sigmoid, LeakyReLU, Embedding)
and the MSE loss, from PyTorch.

Inputs are drawn from a fixed seed, rounded to float32 (so the C# tests read exactly the same
values), and every output and gradient is computed in float64 from those rounded inputs. Each
layer case holds: input x (batch-major, flat), upstream gradient g = dL/dy, output y, input gradient
dx and parameter gradients, where L = sum(g * y). erf reference values come from Python's math.erf.

Run (Debian's PyTorch):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
    /usr/bin/python3 bench/reference/layers_a_golden.py > tests/Flock.Tests/TestData/layers/layers_a_golden.json
"""
import json
import math
import sys

import torch

torch.manual_seed(20240611)
torch.set_default_dtype(torch.float64)


def f32(t):
    """Rounds a tensor to float32 values, kept in float64."""
    return t.to(torch.float32).to(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def randn(*shape, scale=1.0):
    return f32(torch.randn(*shape) * scale)


def elementwise(name, module, shape, scale):
    x = randn(*shape, scale=scale).requires_grad_(True)
    g = randn(*shape)
    y = module(x)
    (y * g).sum().backward()
    return {"name": name, "shape": list(shape), "x": flat(x), "g": flat(g), "y": flat(y), "dx": flat(x.grad)}


def layer_norm(name, batch, example_shape, normalized_rank):
    normalized_shape = example_shape[len(example_shape) - normalized_rank:]
    ln = torch.nn.LayerNorm(normalized_shape, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(f32(1 + 0.5 * torch.randn(*normalized_shape)))
        ln.bias.copy_(randn(*normalized_shape, scale=0.5))
    x = (randn(batch, *example_shape, scale=2.0) + 0.7).requires_grad_(True)
    g = randn(batch, *example_shape)
    y = ln(x)
    (y * g).sum().backward()
    return {"name": name, "batch": batch, "exampleShape": list(example_shape), "normalizedRank": normalized_rank,
            "weight": flat(ln.weight), "bias": flat(ln.bias), "x": flat(x), "g": flat(g), "y": flat(y),
            "dx": flat(x.grad), "dWeight": flat(ln.weight.grad), "dBias": flat(ln.bias.grad)}


def embedding(batch, seq, vocab, dim):
    emb = torch.nn.Embedding(vocab, dim)
    with torch.no_grad():
        emb.weight.copy_(f32(emb.weight))
    ids = torch.randint(0, vocab, (batch, seq))
    ids[0, 0] = ids[1, 2] = 3  # a repeated id, so backward must accumulate
    g = randn(batch, seq, dim)
    y = emb(ids)
    (y * g).sum().backward()
    return {"vocab": vocab, "dim": dim, "batch": batch, "seq": seq, "ids": [int(v) for v in ids.reshape(-1).tolist()],
            "weight": flat(emb.weight), "g": flat(g), "y": flat(y), "dWeight": flat(emb.weight.grad)}


def mse(batch, dim):
    out = randn(batch, dim).requires_grad_(True)
    target = randn(batch, dim)
    loss = torch.nn.MSELoss(reduction="mean")(out, target)
    loss.backward()
    return {"batch": batch, "dim": dim, "outputs": flat(out), "targets": flat(target), "loss": float(loss), "grad": flat(out.grad)}


erf_x = [0.0, 1e-4, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 10.0,
         -0.3, -1.7, -2.9, -4.2]
golden = {
    "torch": torch.__version__,
    "erf": [{"x": x, "erf": math.erf(x)} for x in erf_x],
    "elementwise": [
        elementwise("gelu", torch.nn.GELU(), (3, 11), 2.5),
        elementwise("tanh", torch.nn.Tanh(), (3, 11), 2.0),
        elementwise("sigmoid", torch.nn.Sigmoid(), (3, 11), 3.0),
        elementwise("leaky_relu_0.01", torch.nn.LeakyReLU(0.01), (3, 11), 1.0),
        elementwise("leaky_relu_0.2", torch.nn.LeakyReLU(0.2), (3, 11), 1.0),
    ],
    "layerNorm": [
        layer_norm("vector", 3, [10], 1),
        layer_norm("last_dim", 2, [4, 6], 1),
        layer_norm("all_dims", 2, [4, 6], 2),
    ],
    "embedding": embedding(2, 5, 7, 4),
    "mse": mse(4, 3),
}
json.dump(golden, sys.stdout, indent=1)
sys.stdout.write("\n")
