"""Column conversions shared by the chunk checks and the duplicate-id search.

Each takes a raw column as the format gave it and returns plain NumPy values together with
where the file had no value, so a check can tell an empty cell from a bad one.
"""

from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import is_float_dtype, is_integer_dtype, is_numeric_dtype, is_string_dtype

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Objects = npt.NDArray[np.object_]

_MAX_EXACT_FLOAT_ID = 2.0**53


def id_values(raw: pd.Series) -> tuple[Objects, Bools]:
    """Ids as Python strings or None, and where they are missing.

    Parquet integers become the digits a CSV would hold, so both formats give equal ids.
    """
    if is_integer_dtype(raw.dtype):  # never missing: the quick way to digits
        return raw.astype(str).to_numpy(dtype=object), np.zeros(len(raw), dtype=bool)
    if is_float_dtype(raw.dtype) and _all_whole(raw.to_numpy(dtype=np.float64)):
        raw = raw.astype("Int64")
    if not is_string_dtype(raw.dtype):
        raw = raw.astype("string")
    missing = is_missing(raw)
    values: Objects = raw.to_numpy(dtype=object, copy=True)
    values[missing] = None
    return values, missing


def _all_whole(values: Floats) -> bool:
    known = values[~np.isnan(values)]
    return bool(np.all((known == np.floor(known)) & (np.abs(known) < _MAX_EXACT_FLOAT_ID)))


def as_floats(raw: pd.Series) -> tuple[Floats, Bools]:
    """The values as float64 with NaN where not a number, and where the file had no value."""
    if is_numeric_dtype(raw.dtype):
        values: Floats = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values)
    numbers = pd.to_numeric(raw, errors="coerce")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan), is_missing(raw)


def is_missing(raw: pd.Series) -> Bools:
    """Null, or an empty string: Parquet keeps "" where a CSV cell is simply empty."""
    missing = raw.isna().to_numpy()
    if is_string_dtype(raw.dtype):
        missing = missing | (raw == "").to_numpy(dtype=bool, na_value=False)
    return missing


def utc_timestamp(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def seconds_range(origin: pd.Timestamp) -> tuple[float, float]:
    """Offsets from ``origin`` that both a nanosecond timedelta and timestamp can hold."""
    low = max(pd.Timestamp.min.value - origin.value, pd.Timedelta.min.value)
    high = min(pd.Timestamp.max.value - origin.value, pd.Timedelta.max.value)
    return low / 1e9 + 1, high / 1e9 - 1


def plain(value: object) -> object:
    """Python scalars for messages: ``-1.0`` reads better than ``np.float64(-1.0)``."""
    return value.item() if isinstance(value, np.generic) else value
