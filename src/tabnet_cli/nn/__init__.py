"""The network: PyTorch layers and model, and the NumPy forward pass used for inference."""
