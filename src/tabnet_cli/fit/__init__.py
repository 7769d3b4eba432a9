"""Fitting a network: the loop, its batches, losses, epoch metrics, callbacks and optimizers."""
