"""The network: a Keras-style ``Sequential`` stack of Dense layers, built from a config.

``layer_plan`` is the single description of the stack; ``build_mlp`` turns it into PyTorch
modules for training, and ``forward.NumpyMLP`` runs the same plan for inference without
importing PyTorch (so ``tabnet predict`` starts fast).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tabnet_cli.settings.config import ModelConfig

if TYPE_CHECKING:
    from torch import nn


# periodic embedding of each input (RealMLP's PBLD): cos(2 pi (f x + p)) at 16 learned
# frequencies, mixed into 3 features per input, next to the input itself
PERIODIC_FREQUENCIES, PERIODIC_DIMS = 16, 4


def layer_plan(config: ModelConfig) -> list[tuple[str, str, dict]]:
    """(module index, kind, details) per layer: Dense -> [BatchNorm] -> activation ->
    [Dropout] per hidden layer, then a linear output. Indices name the saved tensors.

    Example:
        >>> from tabnet_cli.settings.config import ArchConfig
        >>> arch = ArchConfig(layers=(4,), batchnorm=True)
        >>> [(i, kind) for i, kind, _ in layer_plan(ModelConfig(3, 1, arch))]
        [('0', 'linear'), ('1', 'batchnorm'), ('2', 'activation'), ('3', 'linear')]
    """
    plan: list[tuple[str, str, dict]] = []
    width_in, arch = config.n_inputs, config.arch

    def add(kind: str, **details) -> None:
        plan.append((str(len(plan)), kind, details))

    if arch.embedding == "periodic":
        add("periodic", width=width_in, frequencies=PERIODIC_FREQUENCIES, dims=PERIODIC_DIMS)
        width_in *= PERIODIC_DIMS
    if arch.feature_scale:
        add("scale", width=width_in)
    for width in arch.layers:
        add("linear", n_in=width_in, n_out=width)
        if arch.batchnorm:
            add("batchnorm", width=width)
        add("activation", name=arch.activation)
        if arch.dropout > 0:
            add("dropout", rate=arch.dropout)
        width_in = width
    add("linear", n_in=width_in, n_out=config.n_outputs)
    return plan


def tensor_shapes(config: ModelConfig) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, dtype) of every tensor a run's ``model.safetensors`` must hold.

    Example:
        >>> from tabnet_cli.settings.config import ArchConfig
        >>> tensor_shapes(ModelConfig(n_inputs=3, n_outputs=1, arch=ArchConfig(layers=())))
        {'0.weight': ((1, 3), 'float32'), '0.bias': ((1,), 'float32')}
    """
    shapes: dict[str, tuple[tuple[int, ...], str]] = {}
    for index, kind, details in layer_plan(config):
        if kind == "linear":
            shapes[f"{index}.weight"] = ((details["n_out"], details["n_in"]), "float32")
            shapes[f"{index}.bias"] = ((details["n_out"],), "float32")
        elif kind == "scale":
            shapes[f"{index}.weight"] = ((details["width"],), "float32")
        elif kind == "periodic":
            width, freqs, dims = details["width"], details["frequencies"], details["dims"]
            shapes[f"{index}.frequency"] = ((width, freqs), "float32")
            shapes[f"{index}.phase"] = ((width, freqs), "float32")
            shapes[f"{index}.weight"] = ((width, freqs, dims - 1), "float32")
            shapes[f"{index}.bias"] = ((width, dims - 1), "float32")
        elif kind == "batchnorm":
            for name in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{index}.{name}"] = ((details["width"],), "float32")
            shapes[f"{index}.num_batches_tracked"] = ((), "int64")
    return shapes


def weight_count(config: ModelConfig) -> int:
    """Numbers in the network's weights (memory per copy, and about the multiply-adds of one
    row's forward pass).

    Example:
        >>> from tabnet_cli.settings.config import ArchConfig
        >>> weight_count(ModelConfig(n_inputs=3, n_outputs=1, arch=ArchConfig(layers=(4,))))
        21
    """

    return sum(math.prod(shape) for shape, _ in tensor_shapes(config).values())


def build_mlp(config: ModelConfig) -> nn.Sequential:
    """The PyTorch modules of ``layer_plan``. The output is raw (logits for
    classification): the losses apply sigmoid/softmax themselves, which is numerically
    stabler than a sigmoid layer followed by BCE. Weights use Glorot-uniform and zero
    biases, as Keras' Dense does, so runs compare with the course.

    Example:
        >>> from tabnet_cli.settings.config import ArchConfig
        >>> build_mlp(ModelConfig(n_inputs=11, n_outputs=1, arch=ArchConfig(layers=(4,))))
        Sequential(
          (0): Linear(in_features=11, out_features=4, bias=True)
          (1): ReLU()
          (2): Linear(in_features=4, out_features=1, bias=True)
        )
    """
    from torch import nn  # torch loads on first use, not with this module

    # torch loads on first use, not with this module
    from tabnet_cli.nn.layers import ACTIVATION_MODULES, FeatureScale, PeriodicEmbedding

    modules: list[nn.Module] = []
    for _, kind, details in layer_plan(config):
        if kind == "linear":
            linear = nn.Linear(details["n_in"], details["n_out"])
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            modules.append(linear)
        elif kind == "scale":
            modules.append(FeatureScale(details["width"]))
        elif kind == "periodic":
            modules.append(
                PeriodicEmbedding(details["width"], details["frequencies"], details["dims"])
            )
        elif kind == "batchnorm":
            modules.append(nn.BatchNorm1d(details["width"]))
        elif kind == "activation":
            modules.append(ACTIVATION_MODULES[details["name"]]())
        else:
            modules.append(nn.Dropout(details["rate"]))
    if config.arch.zero_init_last:
        nn.init.zeros_(modules[-1].weight)  # the first predictions are the bias: the mean
    return nn.Sequential(*modules)
