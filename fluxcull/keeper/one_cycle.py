"""AdamW under a one-cycle learning-rate schedule, for the pairwise rankers (fluxcull.keeper.ranker).

The arithmetic of torch.optim.AdamW (its single-tensor path) stepped by
torch.optim.lr_scheduler.OneCycleLR (cosine annealing, the first moment's beta cycled between 0.95
and 0.85), written out on the parameters' tensors. torch.optim's first optimizer in a process imports
torch._dynamo, which took 2-4 s of every `fluxcull train` on a 2-core machine; the pairwise model
needs none of that machinery.
"""

from __future__ import annotations

import math


class AdamWOneCycle:
    """`step()` after each backward pass: one AdamW update at the schedule's current learning rate
    and beta1, then the schedule moves on (as `opt.step(); sched.step()`)."""

    def __init__(self, params, *, max_lr: float, weight_decay: float, total_steps: int, pct_start: float = 0.1,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, beta2: float = 0.999, eps: float = 1e-8,
                 base_momentum: float = 0.85, max_momentum: float = 0.95):
        import torch

        self.params = list(params)
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.weight_decay, self.beta2, self.eps = float(weight_decay), float(beta2), float(eps)
        initial = max_lr / div_factor
        self.total_steps = int(total_steps)
        # (end step, start lr, end lr, start beta1, end beta1), as OneCycleLR's two phases
        self.phases = [(float(pct_start * self.total_steps) - 1, initial, max_lr, max_momentum, base_momentum),
                       (self.total_steps - 1, max_lr, initial / final_div_factor, base_momentum, max_momentum)]
        self.updates = 0  # AdamW's step count, and where the schedule stands
        self.lr, self.beta1 = self._schedule(0)

    def _schedule(self, step_num: int) -> tuple[float, float]:
        (end0, *first), (end1, *last) = self.phases
        start, end, (lr0, lr1, m0, m1) = (0.0, end0, first) if step_num <= end0 else (end0, end1, last)
        pct = (step_num - start) / (end - start)
        return _cos(lr0, lr1, pct), _cos(m0, m1, pct)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch

        self.updates += 1
        lr, beta1, beta2 = self.lr, self.beta1, self.beta2
        bias_correction1 = 1 - beta1 ** float(self.updates)
        bias_correction2_sqrt = (1 - beta2 ** float(self.updates)) ** 0.5
        step_size = lr / bias_correction1
        with torch.no_grad():
            for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
                if p.grad is None:
                    continue
                g = p.grad
                p.mul_(1 - lr * self.weight_decay)
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
                p.addcdiv_(m, denom, value=-step_size)
        if self.updates > self.total_steps:
            raise ValueError(f"stepped {self.updates} times, the schedule has {self.total_steps}")
        self.lr, self.beta1 = self._schedule(self.updates)


def _cos(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
