"""HiGHS for the optimiser and the cost-game LPs: one silent instance factory and one array-based model builder.

Both users describe their models the same way -- column costs and bounds, row bounds, a sparse matrix -- and get
a loaded ``highspy.Highs`` back, so the marshalling into HiGHS's structures (index and value arrays of the
right dtype, the matrix format, integrality) is written and checked once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int32]
OptionValue = bool | int | float | str

INF: float = highspy.kHighsInf

_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def new_silent_highs() -> highspy.Highs:
    """A silent highspy.Highs (the first one in a process prints a copyright banner on stdout; keep it off the
    command line's output)."""
    global _BANNER_DONE

    with _BANNER_LOCK:
        if _BANNER_DONE:
            h = _highs()
        else:
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    h = _highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_DONE = True
    h.setOptionValue("output_flag", False)
    return h


def _highs() -> highspy.Highs:
    # highspy's Python wrapper class leaves __init__ unannotated (its stubs type everything else).
    return highspy.Highs()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class SparseMatrix:
    """A compressed sparse matrix as HiGHS takes it: by rows (``start`` has one entry per row, plus one) or by
    columns (one per column, plus one)."""

    rowwise: bool
    start: IndexArray
    index: IndexArray
    value: FloatArray

    @property
    def n_lines(self) -> int:
        """Rows of a rowwise matrix, columns of a columnwise one."""
        return len(self.start) - 1

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Sequence[int], Sequence[float]]]) -> SparseMatrix:
        """Rowwise, from (column indices, coefficients) per row."""
        start = [0]
        index: list[int] = []
        value: list[float] = []
        for idx, val in rows:
            index.extend(idx)
            value.extend(val)
            start.append(len(index))
        return cls.from_lists(start, index, value)

    @classmethod
    def from_lists(cls, start: Sequence[int], index: Sequence[int], value: Sequence[float]) -> SparseMatrix:
        """Rowwise, from flat lists already in compressed form."""
        return cls(
            True,
            np.asarray(start, dtype=np.int32),
            np.asarray(index, dtype=np.int32),
            np.asarray(value, dtype=np.float64),
        )

    @classmethod
    def from_dense(cls, matrix: npt.ArrayLike) -> SparseMatrix:
        """Rowwise, the non-zeros of a dense 2-d array."""
        dense = np.asarray(matrix, dtype=np.float64)
        nz_rows, nz_cols = np.nonzero(dense)
        starts = np.searchsorted(nz_rows, np.arange(dense.shape[0] + 1))
        return cls(True, starts.astype(np.int32), nz_cols.astype(np.int32), dense[nz_rows, nz_cols])

    @classmethod
    def from_triplets(
        cls, rows: npt.ArrayLike, cols: npt.ArrayLike, values: npt.ArrayLike, n_cols: int
    ) -> SparseMatrix:
        """Columnwise, from (row, column, value) triplets in any order."""
        rr = np.asarray(rows)
        cc = np.asarray(cols)
        vv = np.asarray(values, dtype=np.float64)
        order = np.lexsort((rr, cc))
        rr, cc, vv = rr[order], cc[order], vv[order]
        start = np.searchsorted(cc, np.arange(n_cols + 1)).astype(np.int32)
        return cls(False, start, rr.astype(np.int32), vv)

    @classmethod
    def empty(cls, n_cols: int) -> SparseMatrix:
        """No rows yet (columnwise, so that rows can be added to the loaded model one by one)."""
        return cls(False, np.zeros(n_cols + 1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))


@dataclass(frozen=True)
class LinearModel:
    """min cost x s.t. row_lower <= A x <= row_upper, col_lower <= x <= col_upper (x integer when ``integer``)."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    matrix: SparseMatrix
    integer: bool = False

    @classmethod
    def of(
        cls,
        cost: npt.ArrayLike,
        col_lower: npt.ArrayLike,
        col_upper: npt.ArrayLike,
        row_lower: npt.ArrayLike,
        row_upper: npt.ArrayLike,
        matrix: SparseMatrix,
        integer: bool = False,
    ) -> LinearModel:
        """The model from anything array-like, converted to float arrays and checked for consistent sizes."""
        model = cls(
            np.asarray(cost, dtype=np.float64),
            np.asarray(col_lower, dtype=np.float64),
            np.asarray(col_upper, dtype=np.float64),
            np.asarray(row_lower, dtype=np.float64),
            np.asarray(row_upper, dtype=np.float64),
            matrix,
            integer,
        )
        n, m = model.n_cols, model.n_rows
        if len(model.col_lower) != n or len(model.col_upper) != n or len(model.row_upper) != m:
            raise ValueError("column and row bound arrays do not match the cost and row counts")
        lines, other = (m, n) if matrix.rowwise else (n, m)
        if matrix.n_lines != lines or (len(matrix.index) and int(matrix.index.max()) >= other):
            raise ValueError("the matrix does not match the model's rows/columns")
        return model

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def to_highs_lp(self) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = self.cost
        lp.col_lower_ = self.col_lower
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        a = self.matrix
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise if a.rowwise else highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = self.n_cols
        lp.a_matrix_.num_row_ = self.n_rows
        lp.a_matrix_.start_ = a.start
        lp.a_matrix_.index_ = a.index
        lp.a_matrix_.value_ = a.value
        if self.integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * self.n_cols
        return lp


def load_model(model: LinearModel, options: Mapping[str, OptionValue] | None = None) -> highspy.Highs:
    """A silent Highs with ``options`` set and ``model`` passed in, ready to run."""
    h = new_silent_highs()
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    h.passModel(model.to_highs_lp())
    return h


def pass_diagonal_hessian(h: highspy.Highs, diagonal: npt.ArrayLike) -> None:
    """Add 1/2 sum_j d_j x_j^2 to the objective (a QP) for the non-zero d_j."""
    d = np.asarray(diagonal, dtype=np.float64)
    size = len(d)
    idx = np.nonzero(d)[0]
    start = np.searchsorted(idx, np.arange(size + 1)).astype(np.int32)
    # The stubs type the format as a plain int (HighsInt), which HiGHS also accepts at run time.
    h.passHessian(size, len(idx), int(highspy.HessianFormat.kTriangular), start, idx.astype(np.int32), d[idx])
