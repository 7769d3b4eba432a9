"""tabnet: train neural networks on tabular data from the command line."""

__version__ = "0.1.0"
