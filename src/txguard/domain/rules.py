"""Analyst rules, their hits and watch lists, as plain values.

They live in the domain because both the rule language (core) and the rule tables
(adapters) speak them and neither may import the other. Invariants are checked on
construction, so a ``Rule`` that exists is one an analyst was allowed to write.

>>> Rule("Big", "amount > 5000", RuleAction.REVIEW, 30, "Amount above 5,000").action
<RuleAction.REVIEW: 'review'>
"""

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from txguard.domain.enums import RuleAction
from txguard.domain.errors import InputError

NAME_MAX_LENGTH = 128
EXPRESSION_MAX_LENGTH = 2_000
MAX_WEIGHT = 100.0
LIST_NAME_MAX_LENGTH = 64
LIST_VALUE_MAX_LENGTH = 128
# Analysts write list("name") inside a quoted string, so names keep to characters that need
# no escaping; the limits match the watch_list and list_entry columns.
_LIST_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class RuleError(InputError):
    """A rule or watch list txguard refuses; ``field`` is the input the message is about."""

    def __init__(self, message: str, *, field: str = "expression") -> None:
        super().__init__(message)
        self.field = field


class ListKind(StrEnum):
    """What a watch list holds, so the console can offer the right values (card values are tokens)."""

    CARD = "card"
    TERMINAL = "terminal"
    COUNTRY = "country"
    MERCHANT_CATEGORY = "merchant_category"


@dataclass(frozen=True)
class Rule:
    """One version of an analyst rule; ``weight`` is the risk score points a hit adds."""

    name: str
    expression: str
    action: RuleAction
    weight: float
    reason: str
    version: int = 1
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _rule_name(self.name))
        object.__setattr__(self, "expression", _expression(self.expression))
        object.__setattr__(self, "action", _action(self.action))
        object.__setattr__(self, "weight", _weight(self.weight))
        object.__setattr__(self, "reason", _text(self.reason, "reason"))
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise RuleError(
                f"version must be a whole number from 1, not {self.version!r}", field="version"
            )


@dataclass(frozen=True)
class RuleHit:
    """A rule that fired on a transaction, as shown to analysts and added to the risk score."""

    name: str
    version: int
    action: RuleAction
    weight: float
    reason: str


def list_name(name: str) -> str:
    """``name`` as a watch list name, or a ``RuleError`` saying what is wrong with it."""
    if not isinstance(name, str) or not _LIST_NAME.fullmatch(name):
        raise RuleError(
            f"list name {name!r} must be letters, digits, '_', '-' or '.', not starting with '-' or '.'",
            field="name",
        )
    if len(name) > LIST_NAME_MAX_LENGTH:
        raise RuleError(f"list name is longer than {LIST_NAME_MAX_LENGTH} characters", field="name")
    return name


def list_value(value: str) -> str:
    """``value`` stripped, as stored in a watch list; empty or overlong values are refused."""
    text = _text(value, "values")
    if len(text) > LIST_VALUE_MAX_LENGTH:
        raise RuleError(
            f"list value {text[:20]!r}... is longer than {LIST_VALUE_MAX_LENGTH} characters",
            field="values",
        )
    return text


def _rule_name(name: str) -> str:
    text = _text(name, "name")
    if len(text) > NAME_MAX_LENGTH:
        raise RuleError(f"rule name is longer than {NAME_MAX_LENGTH} characters", field="name")
    return text


def _expression(expression: str) -> str:
    text = _text(expression, "expression")
    if len(text) > EXPRESSION_MAX_LENGTH:
        raise RuleError(
            f"expression is {len(text):,} characters long; the limit is {EXPRESSION_MAX_LENGTH:,}"
        )
    return text


def _action(action: RuleAction | str) -> RuleAction:
    try:
        return RuleAction(action)
    except ValueError:
        allowed = ", ".join(a.value for a in RuleAction)
        raise RuleError(
            f"action must be one of {allowed}, not {action!r}", field="action"
        ) from None


def _weight(weight: float) -> float:
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise RuleError(f"weight must be a number, not {weight!r}", field="weight")
    if not math.isfinite(weight) or not 0 <= weight <= MAX_WEIGHT:
        raise RuleError(
            f"weight must be between 0 and {MAX_WEIGHT:g}, not {weight!r}", field="weight"
        )
    return float(weight)


def _text(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"{field} must not be empty", field=field)
    return value.strip()
