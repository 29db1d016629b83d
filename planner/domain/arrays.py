"""The numpy array types the domain's signatures name (numpy.typing), so that mypy checks what flows through the
cost-game LPs and the separation oracle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
# numpy's arithmetic often yields arrays of an unknown scalar type; code that only reads them takes this
AnyArray: TypeAlias = npt.NDArray[Any]
# shares or weights, given as a plain list (tests, callers) or as an array (the LPs)
Vector: TypeAlias = Sequence[float] | npt.NDArray[Any]
