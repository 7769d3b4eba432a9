"""Optimizers: Adam/AdamW through PyTorch's functional fused kernel, SGD and RMSprop as is.

``torch.optim.Adam.step`` spends about 100 us per call in Python bookkeeping (hooks, state
lookup, grouping) before its fused kernel runs: at batch size 32 that is a quarter of a
training step. ``FunctionalAdam`` keeps the state in flat lists built once and calls the
same public functional kernel (``torch.optim.adam.adam``), so the arithmetic is PyTorch's
own and only the bookkeeping is skipped.
"""

from __future__ import annotations

import math

import torch
from torch.optim.adam import adam

from tabnet_cli.settings.config import TrainConfig

# Keras' epsilon (1e-7) keeps updates the same as the course's for tiny gradients.
EPSILON = 1e-7


class FunctionalAdam:
    """Adam (or AdamW with ``decoupled=True``) over a fixed list of parameters.

    Example:
        >>> layer = torch.nn.Linear(2, 1)
        >>> opt = FunctionalAdam(layer.parameters(), lr=0.1)
        >>> layer(torch.ones(1, 2)).sum().backward(); opt.step()
        >>> int(opt.steps[0])
        1
    """

    def __init__(
        self,
        params,
        lr: float,
        weight_decay: float = 0.0,
        decoupled: bool = False,
        beta2: float = 0.999,
    ):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay, self.decoupled = lr, weight_decay, decoupled
        self.beta2 = beta2
        self.exp_avgs = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in self.params]
        device = self.params[0].device if self.params else torch.device("cpu")
        self.steps = [torch.zeros((), dtype=torch.float32, device=device) for _ in self.params]
        self.fused = device.type in ("cpu", "cuda")

    def zero_grad(self) -> None:
        """Zeroes gradients in place (reusing their memory, unlike ``set_to_none``)."""
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        try:
            self._update(grads, fused=self.fused)
        except RuntimeError:
            if not self.fused:
                raise
            self.fused = False  # no fused kernel for this device or build: multi-tensor path
            self._update(grads, fused=False)

    def _update(self, grads, fused: bool) -> None:
        adam(
            self.params,
            grads,
            self.exp_avgs,
            self.exp_avg_sqs,
            [],
            self.steps,
            fused=fused or None,
            foreach=None if fused else True,
            decoupled_weight_decay=self.decoupled,
            amsgrad=False,
            beta1=0.9,
            beta2=self.beta2,
            lr=self.lr,
            weight_decay=self.weight_decay,
            eps=EPSILON,
            maximize=False,
        )


def make_optimizer(params, config: TrainConfig):
    """Adam (default), AdamW, SGD with momentum or RMSprop.

    Example:
        >>> opt = make_optimizer(torch.nn.Linear(2, 1).parameters(), TrainConfig(optimizer="sgd"))
        >>> type(opt).__name__
        'SGD'
    """
    name, lr, decay = config.optimizer, config.lr, config.weight_decay
    if name in ("adam", "adamw"):
        return FunctionalAdam(params, lr, decay, decoupled=name == "adamw", beta2=config.beta2)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=decay)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=decay, eps=EPSILON)


def set_lr(optimizer, lr: float) -> None:
    """Sets the learning rate of any optimizer made by ``make_optimizer``."""
    if isinstance(optimizer, FunctionalAdam):
        optimizer.lr = lr
    else:
        for group in optimizer.param_groups:
            group["lr"] = lr


def scheduled_lr(config: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) of ``total_steps``: a linear
    warm-up over the first ``warmup`` share of steps, then constant or a half cosine that
    nears 0 at the last step.

    Example:
        >>> config = TrainConfig(lr=1.0, schedule="cosine", warmup=0.1)
        >>> [round(scheduled_lr(config, s, 10), 3) for s in (0, 1, 5, 9)]
        [1.0, 1.0, 0.587, 0.03]
    """
    warm = int(config.warmup * total_steps)
    if step < warm:
        return config.lr * (step + 1) / warm
    if config.schedule == "constant":
        return config.lr
    progress = (step - warm) / max(total_steps - warm, 1)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
