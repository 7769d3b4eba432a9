"""Serving a run over HTTP: JSON requests checked against the run's schema, answered by
the NumPy forward pass (no PyTorch in the serving process)."""
