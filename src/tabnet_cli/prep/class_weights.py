"""``--class-weight``: how much each class's rows count in a classification loss.

``balanced`` gives class ``c`` the weight ``n / (k * n_c)`` (scikit-learn's rule: every
class weighs as much in total); ``good=3,bad=1`` names the weights; ``none`` weighs every
row alike. The run stores the setting as typed, and the weights are computed again from
the run's classes and training class frequencies wherever the loss is needed (training,
``tabnet evaluate``), so both give the same numbers. NumPy only: evaluation must not
import PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tabnet_cli.errors import TabnetError
from tabnet_cli.prep.targets import label_key

if TYPE_CHECKING:  # NumPy is imported where weights are computed (evaluate stays light)
    import numpy as np

from tabnet_cli.settings.config import BALANCED, NONE, parse_class_weight


def class_weights(
    spec: str, task: str, classes: Sequence | None, frequencies: Sequence[float]
) -> np.ndarray | None:
    """One weight per class (in the run's class order), or ``None`` for equal weights.
    ``frequencies`` are the training class frequencies the run stores. A class left out
    of a ``LABEL=WEIGHT`` list weighs 1.

    Example:
        >>> class_weights("balanced", "binary", ["bad", "good"], [0.1, 0.9]).round(3).tolist()
        [5.0, 0.556]
        >>> class_weights("good=3", "binary", ["bad", "good"], [0.5, 0.5]).tolist()
        [1.0, 3.0]
    """
    import numpy as np  # numpy loads on first use, not with this module

    parsed = parse_class_weight(spec)
    if parsed == NONE:
        return None
    if task == "regression" or classes is None:
        raise TabnetError("--class-weight needs a classification target; this one is a regression")
    if parsed == BALANCED:
        freq = np.asarray(frequencies, dtype=np.float64)
        return 1.0 / (len(freq) * np.clip(freq, 1e-12, None))
    keys = [label_key(c) for c in classes]
    unknown = [label for label in parsed if label_key(label) not in keys]
    if unknown:
        known = ", ".join(str(c) for c in classes)
        raise TabnetError(f"--class-weight names {unknown[0]!r}, not a class; the classes: {known}")
    named = {label_key(label): weight for label, weight in parsed.items()}
    return np.array([named.get(key, 1.0) for key in keys], dtype=np.float64)


def row_weights(weights: np.ndarray | None, codes: np.ndarray) -> np.ndarray | None:
    """Each row's weight: its class's.

    Example:
        >>> import numpy as np
        >>> row_weights(np.array([5.0, 0.5]), np.array([1.0, 0.0, 1.0])).tolist()
        [0.5, 5.0, 0.5]
    """
    return None if weights is None else weights[codes.astype("int64")]
