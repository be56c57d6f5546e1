#!/usr/bin/env python3
"""Golden parameter trajectories of PyTorch optimizers for tests/Flock.Tests/Optimizers.

Runs each optimizer configuration for STEPS steps on a fixed deterministic problem in float32 and
writes every iterate to tests/Flock.Tests/TestData/optimizers/optimizers_golden.json.

The gradient is an explicit polynomial of the parameters (no autograd, no transcendental
functions), computed element-wise in float32 with the same operation order as the C# test, so
both sides see bit-identical gradients at identical parameters:

    a_i  = 0.5 + 0.25 * (i % 5)          t_i = 0.5 * ((i % 7) - 3)
    theta0_i = 0.25 * (((37 * i) % 11) - 5)
    g(theta)_i = a_i * (theta_i - t_i) + 0.125 * theta_i * theta_i * theta_i
                 + 0.5 * (theta_i - theta_{(i+1) mod n})

n = 29 so that the C# kernels run their Vector512 body, Vector256 body and scalar tail.

Configurations marked exact use hyper-parameters whose double value PyTorch sees equals the float32
value Flock stores (PyTorch casts lr, momentum, weight decay to float before use, but computes
1 - beta and beta**t in double): there the C# trajectory must be bit-identical. The others use the
usual decimal hyper-parameters and are compared with a tolerance.
Run: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
     /usr/bin/python3 bench/reference/optimizers_golden.py
"""
import json
import os

import torch

N = 29
STEPS = 20
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Flock.Tests",
                   "TestData", "optimizers", "optimizers_golden.json")

torch.set_num_threads(1)
idx = torch.arange(N)
A = (0.5 + 0.25 * (idx % 5)).to(torch.float32)
T = (0.5 * ((idx % 7) - 3)).to(torch.float32)
THETA0 = (0.25 * (((37 * idx) % 11) - 5)).to(torch.float32)


def gradient(th):
    quad = A * (th - T)
    cube = torch.tensor(0.125, dtype=torch.float32) * th * th * th
    coupling = torch.tensor(0.5, dtype=torch.float32) * (th - torch.roll(th, -1))
    return (quad + cube) + coupling




def f32(x):
    """The double nearest to the float32 nearest to x (what a float hyper-parameter holds)."""
    return torch.tensor(x, dtype=torch.float32).item()


# name -> (optimizer factory, clip max_norm or None, scheduler factory or None)
CONFIGS = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.05), None, None),
    ("sgd_wd", lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1), None, None),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9), None, None),
    ("nesterov", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True), None, None),
    ("dampening", lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, dampening=0.5, weight_decay=0.01), None, None),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.05), None, None),
    ("adam_wd", lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1), None, None),
    ("amsgrad", lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.9, 0.9), amsgrad=True), None, None),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1), None, None),
    ("adamw_amsgrad", lambda p: torch.optim.AdamW(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.2, amsgrad=True), None, None),
    ("adam_f32", lambda p: torch.optim.Adam(p, lr=f32(0.05), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8), weight_decay=f32(0.1)), None, None),
    ("adamw_amsgrad_f32", lambda p: torch.optim.AdamW(p, lr=f32(0.05), betas=(f32(0.8), f32(0.99)), eps=f32(1e-6), weight_decay=f32(0.2), amsgrad=True), None, None),
    ("clip_sgd", lambda p: torch.optim.SGD(p, lr=0.1), 1.0, None),
    ("clip_momentum", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 2.0, None),
    ("sgd_cosine", lambda p: torch.optim.SGD(p, lr=0.1), None,
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.01)),
    ("momentum_exponential", lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.9), None,
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    ("adamw_step", lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1), None,
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.5)),
]


EXACT = {"sgd", "sgd_wd", "momentum", "nesterov", "dampening", "adam_f32", "adamw_amsgrad_f32"}


def run(make_opt, clip, make_sched):
    p = torch.nn.Parameter(THETA0.clone())
    opt = make_opt([p])
    sched = make_sched(opt) if make_sched else None
    traj, lrs = [], []
    for _ in range(STEPS):
        with torch.no_grad():
            p.grad = gradient(p.detach().clone())
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([p], clip)
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        traj.append(p.detach().clone().tolist())
    return traj, lrs


def main():
    out = {
        "torch": torch.__version__,
        "n": N,
        "steps": STEPS,
        "theta0": THETA0.tolist(),
        "gradient0": gradient(THETA0.clone()).tolist(),
        "configs": [],
    }
    for name, make_opt, clip, make_sched in CONFIGS:
        traj, lrs = run(make_opt, clip, make_sched)
        exact = name in EXACT
        out["configs"].append({"name": name, "exact": exact, "learning_rates": lrs, "trajectory": traj})
    # The AMSGrad configurations must differ clearly from the same ones without AMSGrad.
    for name, plain in [("amsgrad", lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.9, 0.9))),
                        ("adamw_amsgrad", lambda p: torch.optim.AdamW(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.2))]:
        ams = next(c for c in out["configs"] if c["name"] == name)["trajectory"][-1]
        ref = run(plain, None, None)[0][-1]
        diff = max(abs(x - y) for x, y in zip(ams, ref))
        print(f"{name}: max |AMSGrad - plain| after {STEPS} steps = {diff:.3g}")
        assert diff > 1e-3, name
    # Clipping must be active in some steps and (for clip_momentum) inactive in others.
    for name, clip, make in [("clip_sgd", 1.0, lambda p: torch.optim.SGD(p, lr=0.1)),
                             ("clip_momentum", 2.0, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))]:
        p = torch.nn.Parameter(THETA0.clone())
        opt = make([p])
        norms = []
        for _ in range(STEPS):
            with torch.no_grad():
                p.grad = gradient(p.detach().clone())
            norms.append(float(torch.nn.utils.clip_grad_norm_([p], clip)))
            opt.step()
        print(f"{name}: gradient norms {min(norms):.3g}..{max(norms):.3g}, clipped in {sum(n > clip for n in norms)}/{STEPS} steps")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(out['configs'])} configs x {STEPS} steps x {N} parameters")


if __name__ == "__main__":
    main()
