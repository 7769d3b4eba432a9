"""Exporting a run: the ONNX graph and its check against the NumPy forward pass."""
