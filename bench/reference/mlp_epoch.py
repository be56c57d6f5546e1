"""PyTorch reference for `bench/run.sh mlp`: MLP 784-128-10 (ReLU), SGD lr 0.05, batch 32, one epoch
of Fashion-MNIST, one thread. Prints `pytorch_seconds=<epoch time> pytorch_acc=<test accuracy>`."""
import sys
import time

import numpy as np
import torch

import fashion_mnist

torch.set_num_threads(1)
torch.manual_seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
x_train, y_train, x_test, y_test = fashion_mnist.load()
xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
loss_fn = torch.nn.CrossEntropyLoss()
perm = torch.randperm(xt.shape[0])
batch = 32
start = time.perf_counter()
for i in range(0, xt.shape[0] - batch + 1, batch):
    idx = perm[i:i + batch]
    xb, yb = xt[idx], yt[idx]
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()
seconds = time.perf_counter() - start
with torch.no_grad():
    acc = (model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean()
print(f"pytorch_seconds={seconds:.4f} pytorch_acc={acc:.4f}")
