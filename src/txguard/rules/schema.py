"""The names a rule may use and the kind of value each one holds.

Rules are type-checked against this schema when they are saved, so a rule that compares a
merchant category with a number is refused then, not silently false on every transaction.

>>> symbol_kinds()["card_tx_count_1h"]
<Kind.NUMBER: 'number'>
"""

import keyword
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from txguard.domain.rules import RuleError
from txguard.features.definitions import FEATURE_NAMES


class Kind(StrEnum):
    """The kinds of value in the rule language; the values are the words used in messages."""

    NUMBER = "number"
    TEXT = "text"
    TIME = "time"
    BOOLEAN = "condition"


TRANSACTION_FIELDS: Mapping[str, Kind] = MappingProxyType(
    {
        "transaction_id": Kind.TEXT,
        "amount": Kind.NUMBER,
        "timestamp": Kind.TIME,
        "card_id": Kind.TEXT,
        "terminal_id": Kind.TEXT,
        "merchant_category": Kind.TEXT,
        "country": Kind.TEXT,
        "card_home_country": Kind.TEXT,
        "currency": Kind.TEXT,
        "channel": Kind.TEXT,
    }
)
LIST_FUNCTION = "list"
# Words of the rule grammar; a pass-through feature with one of these names could never be
# referred to, so it is refused up front.
_RESERVED = frozenset(
    {"and", "or", "not", "in", "if", "else", "for", "true", "false", "null", "inf", "nan"}
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def symbol_kinds(extra_numeric: Iterable[str] = ()) -> Mapping[str, Kind]:
    """Every name a rule may use: transaction fields, features, and ``extra_numeric`` inputs."""
    return _symbol_kinds(tuple(sorted(set(extra_numeric))))


@lru_cache(maxsize=32)
def _symbol_kinds(extra_numeric: tuple[str, ...]) -> Mapping[str, Kind]:
    kinds = dict(TRANSACTION_FIELDS)
    kinds.update(dict.fromkeys(FEATURE_NAMES, Kind.NUMBER))
    for name in extra_numeric:
        _check_extra(name, kinds)
        kinds[name] = Kind.NUMBER
    return MappingProxyType(kinds)


def _check_extra(name: str, kinds: Mapping[str, Kind]) -> None:
    if not _IDENTIFIER.fullmatch(name) or name in _RESERVED or keyword.iskeyword(name):
        raise RuleError(f"extra input name {name!r} cannot be used in rules", field="extra_numeric")
    if name == LIST_FUNCTION or kinds.get(name, Kind.NUMBER) is not Kind.NUMBER:
        raise RuleError(
            f"extra input {name!r} clashes with the rule language's own {name!r}",
            field="extra_numeric",
        )
