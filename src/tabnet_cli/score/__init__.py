"""Using a trained run: inference, metrics, the quality gate and feature importance."""
