"""tabnet: train neural networks on tabular data from the command line, or from Python.

Example:
    >>> from tabnet_cli import TabnetClassifier  # doctest: +SKIP
    >>> model = TabnetClassifier(epochs=20).fit(X, y)  # doctest: +SKIP
"""

from tabnet_cli.version import __version__

# The estimators load scikit-learn (and PyTorch when they fit): imported on first use, so
# that `import tabnet_cli` and `tabnet --help` stay light.
_PUBLIC = {"TabnetClassifier", "TabnetRegressor", "load"}


def __getattr__(name: str):
    if name in _PUBLIC:
        from tabnet_cli.api import estimator  # not at start-up: tabnet --help stays light

        return getattr(estimator, name)
    raise AttributeError(f"module 'tabnet_cli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = ["TabnetClassifier", "TabnetRegressor", "__version__", "load"]
