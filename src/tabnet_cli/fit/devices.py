"""The device a run trains on."""

from __future__ import annotations

import torch

from tabnet_cli.errors import TabnetError


def select_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU.

    Example:
        >>> select_device("cpu")
        device(type='cpu')
    """
    if name == "cuda" and not torch.cuda.is_available():
        raise TabnetError("--device cuda asked for, but no CUDA GPU is available; use --device cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)
