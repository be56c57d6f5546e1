#!/usr/bin/env python3
"""PyTorch goldens for the layers-b engine layers (Conv2d, MaxPool2d, AvgPool2d, GroupNorm) and
whole LeNet-5 / tiny ResNet forward+backward passes.

Inputs, weights and output gradients come from a closed-form hash (`val` below) that the C# tests
(tests/Flock.Tests/Models/LayersB/Golden.cs) reproduce bit for bit, so the goldens only store
outputs and gradients. Run with Debian's PyTorch:

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
    /usr/bin/python3 bench/reference/layers_b_golden.py tests/Flock.Tests/TestData/layers-b
"""
import json, math, os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.backends.mkldnn.enabled = False  # the plain reference kernels


def val(n, seed, scale):
    """Element i = ((i*7919 + seed*104729 + 13) mod 65521 / 65521 - 0.5) * scale, in float64 then float32."""
    i = np.arange(n, dtype=np.int64)
    h = (i * 7919 + seed * 104729 + 13) % 65521
    return ((h / 65521.0 - 0.5) * scale).astype(np.float32)


def tensor(shape, seed, scale):
    n = int(np.prod(shape))
    return torch.from_numpy(val(n, seed, scale).reshape(shape))


def fl(t):
    return [float('%.9g' % v) for v in t.detach().reshape(-1).tolist()]


def init_params(model):
    """Same rule as Golden.InitializeParameters: tensor t (layout order) uses seed t+1."""
    with torch.no_grad():
        for t, (name, p) in enumerate(model.named_parameters()):
            if p.dim() >= 2:
                fan_in = p.numel() // p.shape[0]
                p.copy_(tensor(p.shape, t + 1, 2 * math.sqrt(3.0 / fan_in)))
            elif name.endswith('weight'):
                p.copy_(1 + tensor(p.shape, t + 1, 0.5))
            else:
                p.copy_(tensor(p.shape, t + 1, 0.2))


def layer_case(name, module, x_shape, extra):
    x = tensor(x_shape, 1000, 2.0).requires_grad_(True)
    init_params(module)
    y = module(x)
    r = tensor(y.shape, 2000, 2.0)
    (y * r).sum().backward()
    case = {'name': name, 'input': list(x_shape), 'output': list(y.shape), 'y': fl(y), 'dx': fl(x.grad), 'params': {}}
    case.update(extra)
    for pname, p in module.named_parameters():
        case['params'][pname] = fl(p.grad)
    return case


def conv_cases():
    specs = [  # name, N, C, H, W, OC, (kh,kw), (sh,sw), (ph,pw), bias
        ('k3s1p0', 2, 1, 7, 7, 3, (3, 3), (1, 1), (0, 0), True),
        ('k3s2p1_nonsquare', 2, 3, 9, 8, 4, (3, 3), (2, 2), (1, 1), True),
        ('k5s1p2', 2, 2, 6, 7, 3, (5, 5), (1, 1), (2, 2), True),
        ('k1s1p0', 3, 4, 5, 5, 6, (1, 1), (1, 1), (0, 0), True),
        ('k1s2p0', 2, 3, 8, 7, 5, (1, 1), (2, 2), (0, 0), False),
        ('k3x2s2x1p1x0', 2, 2, 7, 9, 3, (3, 2), (2, 1), (1, 0), False),
        ('k3s3p2', 2, 2, 5, 5, 2, (3, 3), (3, 3), (2, 2), True),
        ('k5s1p0_lenet2', 2, 6, 14, 14, 16, (5, 5), (1, 1), (0, 0), True),
    ]
    out = []
    for name, n, c, h, w, oc, k, s, p, b in specs:
        m = nn.Conv2d(c, oc, k, stride=s, padding=p, bias=b)
        out.append(layer_case(name, m, (n, c, h, w), {'outChannels': oc, 'kernel': list(k), 'stride': list(s), 'padding': list(p), 'bias': b}))
    return out


def pool_cases():
    out = []
    for name, shape, k, s in [('k2', (2, 3, 8, 8), 2, 2), ('k3s2', (2, 2, 7, 9), 3, 2), ('k2s1', (2, 2, 5, 6), 2, 1), ('k2_odd', (1, 2, 7, 5), 2, 2)]:
        out.append(layer_case('max_' + name, nn.MaxPool2d(k, s), shape, {'kind': 'max', 'kernel': k, 'stride': s}))
        out.append(layer_case('avg_' + name, nn.AvgPool2d(k, s), shape, {'kind': 'avg', 'kernel': k, 'stride': s}))
    out.append(layer_case('avg_global', nn.AdaptiveAvgPool2d(1), (2, 3, 5, 6), {'kind': 'global', 'kernel': 0, 'stride': 0}))
    return out


def gn_cases():
    out = []
    for name, shape, g in [('g3', (2, 6, 4, 5), 3), ('g1', (2, 4, 3, 3), 1), ('g6', (2, 6, 2, 3), 6), ('g2_lenet', (3, 16, 7, 7), 2)]:
        out.append(layer_case(name, nn.GroupNorm(g, shape[1], eps=1e-5), shape, {'groups': g}))
    return out


class LeNet5(nn.Module):
    def __init__(self, c, pad, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 6, 5, padding=pad)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.gn1 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.gn2 = nn.GroupNorm(groups, cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.GroupNorm(groups, cout))

    def forward(self, x):
        y = self.gn2(self.conv2(F.relu(self.gn1(self.conv1(x)))))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class ResNet(nn.Module):
    def __init__(self, c, classes, n, w, groups):
        super().__init__()
        self.stem = nn.Conv2d(c, w, 3, 1, 1, bias=False)
        self.stem_gn = nn.GroupNorm(groups, w)
        blocks, cin = [], w
        for stage in range(3):
            for i in range(n):
                blocks.append(Block(cin, w << stage, 2 if stage > 0 and i == 0 else 1, groups))
                cin = w << stage
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem_gn(self.stem(x))))
        return self.fc(x.mean((2, 3)))


def model_case(name, model, x_shape, labels, extra):
    init_params(model)
    x = tensor(x_shape, 1000, 2.0)
    logits = model(x)
    loss = F.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    grads = []
    for pname, p in model.named_parameters():
        g = p.grad.reshape(-1)
        entry = {'name': pname, 'length': g.numel(), 'sumsq': float(g.double().pow(2).sum())}
        if g.numel() <= 4000:
            entry['values'] = fl(g)
        else:  # a fixed sample keeps the file small
            idx = [(i * 7907) % g.numel() for i in range(300)]
            entry['indices'] = idx
            entry['values'] = fl(g[idx])
        grads.append(entry)
    case = {'name': name, 'input': list(x_shape), 'labels': labels, 'logits': fl(logits), 'loss': float(loss), 'gradients': grads}
    case.update(extra)
    return case


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else '.'
    os.makedirs(out_dir, exist_ok=True)
    data = {
        'torch': torch.__version__,
        'check': {'val_0_1000_2': fl(tensor((5,), 1000, 2.0)), 'val_sum_70000': float(val(70000, 7, 1.0).astype(np.float64).sum())},
        'conv': conv_cases(), 'pool': pool_cases(), 'groupnorm': gn_cases(),
        'models': [
            model_case('lenet5_28', LeNet5(1, 2), (4, 1, 28, 28), [3, 7, 0, 9], {'kind': 'lenet5'}),
            model_case('lenet5_32', LeNet5(3, 0), (2, 3, 32, 32), [1, 8], {'kind': 'lenet5'}),
            model_case('resnet_tiny', ResNet(3, 5, 1, 4, 2), (2, 3, 12, 12), [4, 1], {'kind': 'resnet', 'classes': 5, 'blocks': 1, 'width': 4, 'groups': 2}),
            model_case('resnet_n2', ResNet(1, 10, 2, 4, 2), (2, 1, 9, 9), [2, 6], {'kind': 'resnet', 'classes': 10, 'blocks': 2, 'width': 4, 'groups': 2}),
        ],
    }
    path = os.path.join(out_dir, 'layers_b_golden.json')
    with open(path, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    print('wrote', path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    main()
