"""The arithmetic of a training step: float32 throughout, or bfloat16 matrix products.

``--precision bfloat16`` runs the forward pass under ``torch.autocast``: the matrix
products (and the backward pass's) read bfloat16 copies of their operands and accumulate
in float32, while the weights, the optimizer's state, the loss and every evaluation stay
float32 (mixed precision, Keras' ``mixed_bfloat16`` policy). Where the hardware multiplies
bfloat16 natively (Intel's AMX tiles on recent Xeons) a 512 x 256 by 256 x 256 product
takes a sixth of its float32 time; the casts around the products eat much of that, so a
whole step gains up to ~20% from 256 rows a batch per thread, and loses below (the step of
a batch of 32 takes 1.5x as long; bench/README.md, "bfloat16 steps"). Without native
support bfloat16 is emulated, slower than float32.

``auto`` (the auto recipe) uses bfloat16 only where it was measured to pay: a CPU with
AMX and at least ``BF16_ROWS_PER_THREAD`` rows a batch for each of the step's threads. The
choice is recorded as the run's setting, as the thread count is: results differ from a
float32 run in the last digits.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cache

import torch

# rows a batch per thread from which a step ran faster in bfloat16 than in float32 on an
# AMX CPU (bench/precision.py, 3 x 256 units, best of 3-5): one thread, batch 256 0.79-1.03x
# the float32 time and batch 512 0.78-0.87x, batch 128 1.24x; two threads, batch 512
# 0.89-1.00x, batch 256 1.14-1.27x (the bfloat16 products split worse over threads)
BF16_ROWS_PER_THREAD = 256


@cache
def cpu_has_amx() -> bool:
    """Whether this CPU has AMX's bfloat16 tiles (Linux's /proc/cpuinfo flags; False
    where the file is absent).

    Example:
        >>> cpu_has_amx() in (True, False)
        True
    """
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def choose_precision(requested: str, device: torch.device, batch_size: int, threads: int) -> str:
    """The precision a run's steps use: ``requested`` unless it is ``auto``; then
    bfloat16 on a CPU with AMX when a batch has ``BF16_ROWS_PER_THREAD`` rows or more for
    each of the step's ``threads``, else float32 (GPUs keep float32 under ``auto``: not
    measured yet).

    Example:
        >>> choose_precision("auto", torch.device("cpu"), 32, threads=1)
        'float32'
        >>> choose_precision("bfloat16", torch.device("cpu"), 32, threads=1)
        'bfloat16'
    """
    if requested != "auto":
        return requested
    native = device.type == "cpu" and cpu_has_amx()
    enough = batch_size >= BF16_ROWS_PER_THREAD * max(threads, 1)
    return "bfloat16" if native and enough else "float32"


def step_arithmetic(precision: str, device: torch.device) -> AbstractContextManager:
    """The context a training step's forward pass runs in: autocast to bfloat16, or
    nothing for float32.

    Example:
        >>> with step_arithmetic("bfloat16", torch.device("cpu")):
        ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
        torch.bfloat16
    """
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()
