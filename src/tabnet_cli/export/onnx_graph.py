"""The network of a layer plan as ONNX nodes: Dense layers (with batch normalisation folded
into them; K submodels' layers too), the per-input scale, periodic embeddings and every
activation of ``config.py``,
computing what ``forward.NumpyMLP`` computes. ``onnx_export`` adds the preprocessing and
the outputs around it."""

from __future__ import annotations

from typing import Any

import numpy as np

from tabnet_cli.nn.model import layer_plan
from tabnet_cli.nn.numpy_forward import BATCHNORM_EPS
from tabnet_cli.settings.config import ModelConfig

_SELU_ALPHA, _SELU_GAMMA = 1.6732632423543772, 1.0507009873554805  # PyTorch's constants


class Graph:
    """Collects nodes and constants with unique internal names."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"tabnet/{hint}/{self.count}"

    def const(self, value: Any, dtype: Any = np.float32, hint: str = "c") -> str:
        from onnx import numpy_helper  # onnx loads on first use, not with this module

        name = self.name(hint)
        array = np.asarray(value, dtype=object if dtype is str else dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        from onnx import helper  # onnx loads on first use, not with this module

        output = self.name(op_type)
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attributes))
        return output


# the tensors of each kind of Dense layer (model.tensor_shapes)
DENSE_TENSORS = {
    "linear": ("weight", "bias"),
    "batch_linear": ("weight", "r", "s", "bias"),
    "submodel_linear": ("weight", "bias"),
}


def network(graph: Graph, model: ModelConfig, x: str, weights: dict[str, np.ndarray]) -> str:
    """The layer plan on float32 inputs; returns the raw outputs [N, n_outputs], or
    [N, K, n_outputs] for K submodels."""
    out, pending, split = x, None, False  # pending: a Dense layer not yet emitted
    for index, kind, details in layer_plan(model):
        if kind != "batchnorm" and pending is not None:
            out = dense(graph, out, pending, split)
            split, pending = split or pending[0] != "linear", None
        if kind in DENSE_TENSORS:
            tensors = {n: weights[f"{index}.{n}"].astype(np.float64) for n in DENSE_TENSORS[kind]}
            pending = (kind, tensors)
        elif kind == "batchnorm":  # folded into the Dense before it
            scale = weights[f"{index}.weight"] / np.sqrt(
                weights[f"{index}.running_var"].astype(np.float64) + BATCHNORM_EPS
            )
            shift = weights[f"{index}.bias"] - weights[f"{index}.running_mean"] * scale
            pending = fold(pending, scale, shift)
        elif kind == "scale":
            out = graph.op("Mul", out, graph.const(weights[f"{index}.weight"]))
        elif kind == "periodic":
            out = periodic(graph, out, weights, index)
        elif kind == "activation":
            out = activation(graph, details["name"], out)
    return dense(graph, out, pending, split)


def fold(pending, scale: np.ndarray, shift: np.ndarray):
    """A Dense layer followed by batch normalisation ``y * scale + shift``, as one Dense."""
    kind, tensors = pending
    tensors = dict(tensors, bias=tensors["bias"] * scale + shift)
    if kind == "batch_linear":  # the output scaling of each submodel takes it
        tensors["s"] = tensors["s"] * scale
    else:  # each output's row of weights ([out, in], or [K, out, in])
        tensors["weight"] = tensors["weight"] * scale[:, None]
    return kind, tensors


def dense(graph: Graph, x: str, pending, split: bool) -> str:
    """A Dense layer (``linear``), K sharing their weights (``batch_linear``) or one per
    submodel (``submodel_linear``), as ``numpy_forward`` computes them; ``split``: ``x``
    is already [N, K, width]."""
    kind, tensors = pending
    weight, bias = tensors["weight"], tensors["bias"]
    if kind == "linear":
        product = graph.op("MatMul", x, graph.const(weight.T, hint="weight"))
        return graph.op("Add", product, graph.const(bias, hint="bias"))
    if not split:  # [N, width] -> [N, 1, width]: the same row for every submodel
        x = graph.op("Unsqueeze", x, graph.const([1], np.int64))
    if kind == "batch_linear":
        scaled = graph.op("Mul", x, graph.const(tensors["r"], hint="r"))
        product = graph.op("MatMul", scaled, graph.const(weight.T, hint="weight"))
        product = graph.op("Mul", product, graph.const(tensors["s"], hint="s"))
        return graph.op("Add", product, graph.const(bias, hint="bias"))
    by_submodel = graph.op("Transpose", x, perm=[1, 0, 2])  # [K or 1, N, in] @ [K, in, out]
    weights = graph.const(weight.transpose(0, 2, 1), hint="weight")
    product = graph.op("Transpose", graph.op("MatMul", by_submodel, weights), perm=[1, 0, 2])
    return graph.op("Add", product, graph.const(bias, hint="bias"))


def periodic(graph: Graph, x: str, weights: dict[str, np.ndarray], index: str) -> str:
    """``layers.PeriodicEmbedding``: [N, F] -> [N, F * dims], each input followed by the
    mixtures of its cosines, as ``forward.PeriodicNumpy`` computes them."""
    frequency, phase = weights[f"{index}.frequency"], weights[f"{index}.phase"]
    width = frequency.shape[0]
    column = graph.op("Unsqueeze", x, graph.const([2], np.int64))  # [N, F, 1]
    angle = graph.op("Add", graph.op("Mul", column, graph.const(frequency)), graph.const(phase))
    waves = graph.op("Cos", graph.op("Mul", angle, graph.const(2 * np.pi)))  # [N, F, K]
    by_input = graph.op("Transpose", waves, perm=[1, 0, 2])  # [F, N, K] @ [F, K, D-1]
    mixed = graph.op("MatMul", by_input, graph.const(weights[f"{index}.weight"]))
    mixed = graph.op("Transpose", mixed, perm=[1, 0, 2])
    mixed = graph.op("Add", mixed, graph.const(weights[f"{index}.bias"]))
    joined = graph.op("Concat", column, mixed, axis=2)
    dims = weights[f"{index}.weight"].shape[2] + 1
    return graph.op("Reshape", joined, graph.const([-1, width * dims], np.int64))


def activation(graph: Graph, name: str, x: str) -> str:
    """Each activation of ``config.ACTIVATIONS`` with its PyTorch constants."""
    if name == "linear":
        return x
    if name == "gelu":  # exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU()
        inner = graph.op("Erf", graph.op("Div", x, graph.const(np.sqrt(2.0))))
        half = graph.op("Mul", x, graph.const(0.5))
        return graph.op("Mul", half, graph.op("Add", inner, graph.const(1.0)))
    if name == "silu":
        return graph.op("Mul", x, graph.op("Sigmoid", x))
    if name == "mish":
        return graph.op("Mul", x, graph.op("Tanh", graph.op("Softplus", x)))
    simple = {
        "relu": ("Relu", {}),
        "tanh": ("Tanh", {}),
        "sigmoid": ("Sigmoid", {}),
        "elu": ("Elu", {"alpha": 1.0}),
        "selu": ("Selu", {"alpha": _SELU_ALPHA, "gamma": _SELU_GAMMA}),
        "leaky_relu": ("LeakyRelu", {"alpha": 0.01}),
    }
    op_type, attributes = simple[name]
    return graph.op(op_type, x, **attributes)
