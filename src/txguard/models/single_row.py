"""LightGBM's single-row fast path, shared by the fraud model and the anomaly forest.

``Booster.predict`` spends most of a 1-row call in Python (parameters to text, array
checks); the C API (``LGBM_BoosterPredictForMatSingleRowFast``) prepares all that once,
which cuts the call to a fraction.
"""

import ctypes
from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _safe_call
from lightgbm.libpath import _LIB

_PREDICT_RAW_SCORE = 1  # C_API_PREDICT_RAW_SCORE in LightGBM's c_api.h
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


class SingleRowPredictor:
    """One booster's raw scores, one row at a time.

    Its buffers are not shared between threads, so each thread needs its own predictor. A
    test checks it gives exactly ``Booster.predict``'s raw scores.
    """

    def __init__(self, booster: lgb.Booster, columns: int) -> None:
        self._booster = booster  # keeps the model alive as long as the predictor
        self._config = ctypes.c_void_p()
        self._length = ctypes.c_int64(0)
        self._columns = columns
        self._out = np.zeros(1, dtype=np.float64)
        self._out_pointer = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        # The row is copied into one buffer whose address is taken once: numpy's
        # ``ctypes.data_as`` costs more per call than the copy.
        self._in = np.zeros(columns, dtype=np.float64)
        self._in_pointer = ctypes.c_void_p(self._in.ctypes.data)
        self._length_pointer = ctypes.byref(self._length)
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,  # noqa: SLF001 -- the C API needs the booster handle
                ctypes.c_int(_PREDICT_RAW_SCORE),
                ctypes.c_int(0),
                ctypes.c_int(-1),
                ctypes.c_int(_DTYPE_FLOAT64),
                ctypes.c_int32(columns),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(self._config),
            )
        )

    def margin(self, row: Sequence[float] | np.ndarray) -> float:
        """The raw score (log-odds) of one row."""
        if len(row) != self._columns:
            raise ValueError(f"row has {len(row)} values; the model reads {self._columns}")
        self._in[:] = row
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self._config, self._in_pointer, self._length_pointer, self._out_pointer
            )
        )
        return float(self._out[0])

    def __del__(self) -> None:
        if self._config:
            _LIB.LGBM_FastConfigFree(self._config)
