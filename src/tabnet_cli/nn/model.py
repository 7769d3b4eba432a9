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
# the layers of K submodels (nn/submodels.py): hidden Dense layers sharing their weights,
# and one output layer per submodel
SUBMODEL_KINDS = ("batch_linear", "submodel_linear")


def layer_plan(config: ModelConfig) -> list[tuple[str, str, dict]]:
    """(module index, kind, details) per layer: Dense -> [BatchNorm] -> activation ->
    [Dropout] per hidden layer, then a linear output. Indices name the saved tensors.
    With ``submodels`` K > 1 (TabM), each hidden Dense is a ``batch_linear`` (one shared
    weight matrix, per-submodel scalings and biases: BatchEnsemble) and the output a
    ``submodel_linear`` (one output layer per submodel); the outputs are [rows, K, n].

    Example:
        >>> from tabnet_cli.settings.config import ArchConfig
        >>> arch = ArchConfig(layers=(4,), batchnorm=True)
        >>> [(i, kind) for i, kind, _ in layer_plan(ModelConfig(3, 1, arch))]
        [('0', 'linear'), ('1', 'batchnorm'), ('2', 'activation'), ('3', 'linear')]
        >>> arch = ArchConfig(layers=(4,), submodels=8)
        >>> [(kind, d.get("submodels")) for _, kind, d in layer_plan(ModelConfig(3, 1, arch))]
        [('batch_linear', 8), ('activation', None), ('submodel_linear', 8)]
    """
    plan: list[tuple[str, str, dict]] = []
    width_in, arch = config.n_inputs, config.arch
    hidden, output = ("linear", "linear") if arch.submodels == 1 else SUBMODEL_KINDS

    def add(kind: str, **details) -> None:
        if kind in SUBMODEL_KINDS:
            details["submodels"] = arch.submodels
        plan.append((str(len(plan)), kind, details))

    if arch.embedding == "periodic":
        add("periodic", width=width_in, frequencies=PERIODIC_FREQUENCIES, dims=PERIODIC_DIMS)
        width_in *= PERIODIC_DIMS
    if arch.feature_scale:
        add("scale", width=width_in)
    for width in arch.layers:
        add(hidden, n_in=width_in, n_out=width)
        if arch.batchnorm:
            add("batchnorm", width=width)
        add("activation", name=arch.activation)
        if arch.dropout > 0:
            add("dropout", rate=arch.dropout, sampler=arch.dropout_sampler)
        width_in = width
    add(output, n_in=width_in, n_out=config.n_outputs)
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
        n_in, n_out, k = details.get("n_in"), details.get("n_out"), details.get("submodels")
        if kind == "linear":
            shapes[f"{index}.weight"] = ((n_out, n_in), "float32")
            shapes[f"{index}.bias"] = ((n_out,), "float32")
        elif kind == "batch_linear":  # (x * r) @ weight.T * s + bias, per submodel
            shapes[f"{index}.weight"] = ((n_out, n_in), "float32")
            shapes[f"{index}.r"] = ((k, n_in), "float32")
            shapes[f"{index}.s"] = ((k, n_out), "float32")
            shapes[f"{index}.bias"] = ((k, n_out), "float32")
        elif kind == "submodel_linear":
            shapes[f"{index}.weight"] = ((k, n_out, n_in), "float32")
            shapes[f"{index}.bias"] = ((k, n_out), "float32")
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


def row_work(config: ModelConfig) -> int:
    """About the multiply-adds of one row's forward pass: the weights, with the shared
    matrices of ``batch_linear`` layers counted once per submodel (each submodel's rows go
    through them).

    Example:
        >>> from tabnet_cli.settings.config import ArchConfig
        >>> arch = ArchConfig(layers=(4,), submodels=2)
        >>> weight_count(ModelConfig(3, 1, arch)), row_work(ModelConfig(3, 1, arch))
        (44, 56)
    """
    shared = sum(
        details["n_in"] * details["n_out"]
        for _, kind, details in layer_plan(config)
        if kind == "batch_linear"
    )
    return weight_count(config) + (config.arch.submodels - 1) * shared


def build_mlp(config: ModelConfig, binary_from: int | None = None) -> nn.Sequential:
    """The PyTorch modules of ``layer_plan``. The output is raw (logits for
    classification): the losses apply sigmoid/softmax themselves, which is numerically
    stabler than a sigmoid layer followed by BCE. Weights use Glorot-uniform and zero
    biases, as Keras' Dense does, so runs compare with the course. ``binary_from``: the
    inputs from this position on are 0 or 1 on every row (the periodic embedding then
    computes them as the line through their two embeddings: the same values, faster).

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

    from tabnet_cli.nn import layers  # torch loads on first use, not with this module
    from tabnet_cli.nn.submodels import (  # torch loads on first use, not with this module
        BatchLinear,
        SubmodelBatchNorm,
        SubmodelLinear,
        init_submodels,
    )

    submodels = config.arch.submodels > 1
    modules: list[nn.Module] = []
    for _, kind, details in layer_plan(config):
        if kind == "linear":
            linear = nn.Linear(details["n_in"], details["n_out"])
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            modules.append(linear)
        elif kind in SUBMODEL_KINDS:
            layer = BatchLinear if kind == "batch_linear" else SubmodelLinear
            modules.append(layer(details["n_in"], details["n_out"], details["submodels"]))
        elif kind == "scale":
            modules.append(layers.FeatureScale(details["width"]))
        elif kind == "periodic":
            periodic = layers.PeriodicEmbedding
            modules.append(periodic(details["width"], details["frequencies"], details["dims"]))
            modules[-1].binary_from = binary_from
        elif kind == "batchnorm":
            modules.append((SubmodelBatchNorm if submodels else nn.BatchNorm1d)(details["width"]))
        elif kind == "activation":
            modules.append(layers.ACTIVATION_MODULES[details["name"]]())
        else:
            modules.append(layers.dropout_layer(details["rate"], details["sampler"]))
    if submodels:
        chunk = PERIODIC_DIMS if config.arch.embedding == "periodic" else 1
        init_submodels(modules, chunk)
    if config.arch.zero_init_last:
        nn.init.zeros_(modules[-1].weight)  # the first predictions are the bias: the mean
    return nn.Sequential(*modules)
