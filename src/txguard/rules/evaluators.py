"""Small closures a compiled rule is made of, with SQL's rules for missing values.

An evaluator takes the transaction's values and returns a value, or ``None`` when it cannot
be known (a missing input, NaN, a division by zero). Comparisons with an unknown value are
unknown, ``and`` / ``or`` / ``not`` follow three-valued logic, and a rule fires only when its
condition is ``True``: a rule never fires on inputs it does not have, even under ``not``,
yet ``a or b`` still fires on ``b`` when ``a`` is missing.

Readers hand out plain ``float``, ``str`` and aware ``datetime`` values whatever the caller
passed (numpy scalars, ints, naive UTC times), so the operators below never meet a type
they do not expect. Closures, not rule-engine's tree walk, because they run per
transaction on the hot path.
"""

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from numbers import Real
from typing import Any

Values = Mapping[str, object]
Evaluator = Callable[[Values], object]
Operator = Callable[[Any, Any], Any]


def number(name: str) -> Evaluator:
    """Reads a numeric input; NaN, absent and non-numeric values are unknown."""

    def read(values: Values) -> object:
        value = values.get(name)
        if value.__class__ is float:
            return value if value == value else None
        return _as_number(value)

    return read


def text(name: str) -> Evaluator:
    """Reads a text input; absent and empty values are unknown."""

    def read(values: Values) -> object:
        value = values.get(name)
        if value.__class__ is str:
            return value or None
        return str(value) if isinstance(value, str) and value else None

    return read


def time(name: str) -> Evaluator:
    """Reads a time; a naive time is taken as UTC, which is what txguard stores."""

    def read(values: Values) -> object:
        value = values.get(name)
        if not isinstance(value, datetime):
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    return read


def constant(value: object) -> Evaluator:
    """A literal of the rule text."""
    return lambda _values: value


def compare(operator: Operator, left: Evaluator, right: Evaluator) -> Evaluator:
    """``left <operator> right``, unknown when either side is."""

    def run(values: Values) -> object:
        a = left(values)
        if a is None:
            return None
        b = right(values)
        if b is None:
            return None
        return operator(a, b)

    return run


def compare_with(operator: Operator, left: Evaluator, literal: object) -> Evaluator:
    """``left <operator> literal``: the usual shape of a rule, with one call fewer."""

    def run(values: Values) -> object:
        a = left(values)
        return None if a is None else operator(a, literal)

    return run


def arithmetic(operator: Operator, left: Evaluator, right: Evaluator) -> Evaluator:
    """``left <operator> right`` on numbers; a division by zero or a NaN result is unknown."""

    def run(values: Values) -> object:
        a = left(values)
        if a is None:
            return None
        b = right(values)
        if b is None:
            return None
        try:
            result = operator(a, b)
        except ArithmeticError:
            return None
        return result if result == result else None

    return run


def negative(inner: Evaluator) -> Evaluator:
    """Unary minus."""

    def run(values: Values) -> object:
        a = inner(values)
        return None if a is None else -a  # type: ignore[operator]

    return run


def member(item: Evaluator, container: frozenset[object]) -> Evaluator:
    """``item in container``; a missing item is in no list and out of none."""

    def run(values: Values) -> object:
        a = item(values)
        return None if a is None else a in container

    return run


def both(left: Evaluator, right: Evaluator) -> Evaluator:
    """Three-valued ``and``: false as soon as one side is false."""

    def run(values: Values) -> object:
        a = left(values)
        if a is False:
            return False
        b = right(values)
        if b is False:
            return False
        return None if a is None or b is None else True

    return run


def either(left: Evaluator, right: Evaluator) -> Evaluator:
    """Three-valued ``or``: true as soon as one side is true."""

    def run(values: Values) -> object:
        a = left(values)
        if a is True:
            return True
        b = right(values)
        if b is True:
            return True
        return None if a is None or b is None else False

    return run


def all_of(parts: list[Evaluator]) -> Evaluator:
    """Three-valued ``and`` of several conditions."""
    if len(parts) == 2:
        return both(*parts)

    def run(values: Values) -> object:
        unknown = False
        for part in parts:
            result = part(values)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True

    return run


def any_of(parts: list[Evaluator]) -> Evaluator:
    """Three-valued ``or`` of several conditions."""
    if len(parts) == 2:
        return either(*parts)

    def run(values: Values) -> object:
        unknown = False
        for part in parts:
            result = part(values)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False

    return run


def negation(inner: Evaluator) -> Evaluator:
    """Three-valued ``not``: the negation of an unknown condition is unknown."""

    def run(values: Values) -> object:
        a = inner(values)
        return None if a is None else not a

    return run


def remainder(a: float, b: float) -> float:
    """``%`` as rule-engine defines it (decimal arithmetic): the sign follows the dividend."""
    if b == 0:
        raise ZeroDivisionError("remainder by zero")
    return math.fmod(a, b)


def truncated_division(a: float, b: float) -> float:
    """``//`` as rule-engine defines it (decimal arithmetic): rounds towards zero, not down."""
    quotient = a // b
    return quotient + 1 if quotient < 0 and a % b else quotient


def _as_number(value: object) -> float | None:
    if value is None or not isinstance(value, Real | Decimal):
        return None
    try:
        result = float(value)
    except (ValueError, OverflowError):  # a signalling NaN, an int beyond float range
        return None
    return None if math.isnan(result) else result
