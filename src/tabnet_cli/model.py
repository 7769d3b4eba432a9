"""The network: a Keras-style ``Sequential`` stack of Dense layers, built from a config."""

from __future__ import annotations

from torch import nn

from tabnet_cli.config import ModelConfig

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "leaky_relu": nn.LeakyReLU,
    "linear": nn.Identity,
}


def build_mlp(config: ModelConfig) -> nn.Sequential:
    """Dense -> [BatchNorm] -> activation -> [Dropout] per hidden layer, then a linear output.

    The output is raw (logits for classification): the losses apply sigmoid/softmax
    themselves, which is numerically stabler than a sigmoid layer followed by BCE.
    Weights use Glorot-uniform and zero biases, as Keras' Dense does, so runs compare
    with the course.

    Example:
        >>> build_mlp(ModelConfig(n_inputs=11, n_outputs=1, layers=(4,)))
        Sequential(
          (0): Linear(in_features=11, out_features=4, bias=True)
          (1): ReLU()
          (2): Linear(in_features=4, out_features=1, bias=True)
        )
    """
    layers: list[nn.Module] = []
    width_in = config.n_inputs
    for width in config.layers:
        layers.append(nn.Linear(width_in, width))
        if config.batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(_ACTIVATIONS[config.activation]())
        if config.dropout > 0:
            layers.append(nn.Dropout(config.dropout))
        width_in = width
    layers.append(nn.Linear(width_in, config.n_outputs))
    model = nn.Sequential(*layers)
    for module in model:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return model
