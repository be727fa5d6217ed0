"""The audit trail's hash chain: how an event is hashed and how a chain is checked.

Every event holds the hash of the event before it (``prev_hash``) and its own ``hash``, the
SHA-256 of a canonical JSON of its content, its id and ``prev_hash``. Changing an event's
content breaks its own hash; removing one leaves a gap in the ids and a ``prev_hash`` that
points at nothing; inserting one leaves a row that neither links to its predecessor nor is
linked to by its successor (the store makes ``prev_hash`` unique, so two rows can never name
the same predecessor).

What a chain alone cannot show, and what covers it:

- Removing the newest events (truncating the tail) leaves a shorter chain that is intact.
  Rewriting every event from some point on, with hashes recomputed, is the same case. An
  anchor kept outside the database covers both: the last line of an earlier export holds an
  event's id and hash, and that event must still be there with that hash.
- The hash is not keyed: whoever can write to the table and run this code can append a
  well-formed event. The chain proves that nothing recorded was changed, not who wrote it;
  database permissions decide that.
"""

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import chain
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "Anchor",
    "AuditRecord",
    "ChainProblem",
    "ChainReport",
    "ProblemKind",
    "chain_hash",
    "check_chain",
    "from_document",
    "json_document",
    "to_document",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
FIRST_ID = 1
Document = dict[str, Any]


@dataclass(frozen=True)
class AuditRecord:
    """One stored audit event: who did what to which entity, and the state before and after."""

    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        """The hash this event's content and position call for."""
        return chain_hash(
            self.prev_hash,
            id=self.id,
            occurred_at=self.occurred_at,
            actor=self.actor,
            action=self.action,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            before=self.before,
            after=self.after,
        )


class ProblemKind(StrEnum):
    """What happened to the first event that does not fit the chain."""

    ALTERED = "altered"
    REMOVED = "removed"
    INSERTED = "inserted"


@dataclass(frozen=True)
class ChainProblem:
    """The first break in a chain: the event concerned, what happened to it, and the evidence."""

    event_id: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class Anchor:
    """An event's id and hash kept outside the database, such as an export's last line."""

    id: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking a chain: how many events were read, the last hash, the break."""

    count: int
    last_id: int | None
    last_hash: str
    problem: ChainProblem | None


def chain_hash(
    prev_hash: str,
    *,
    id: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> str:
    """SHA-256 (hex) of the event's canonical JSON, its id and ``prev_hash`` included."""
    content = {
        "id": id,
        "occurred_at": _timestamp(occurred_at),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": json_document(before, "before"),
        "after": json_document(after, "after"),
        "prev_hash": prev_hash,
    }
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def json_document(value: Mapping[str, Any] | None, field: str) -> Document | None:
    """``value`` as plain JSON that reads back the same from SQLite and PostgreSQL.

    Numbers are compared by value, as RFC 8785 does: PostgreSQL's JSONB gives ``1e+16``
    back as the integer ``10000000000000000``, so a float with no fraction becomes that
    integer here, before it is stored and whenever it is hashed. Anything that is not JSON
    (dates, sets, NaN, non-text keys) is refused rather than turned into a string, so what
    is hashed is exactly what was recorded.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"audit {field}: expected a JSON object, not {type(value).__name__}")
    return _object(value, field)


def verify_chain(records: Iterable[AuditRecord]) -> ChainProblem | None:
    """The first event that does not fit the chain, or None when the chain is intact."""
    return check_chain(records).problem


def check_chain(
    records: Iterable[AuditRecord], anchor: Anchor | None = None, start: Anchor | None = None
) -> ChainReport:
    """Walk ``records`` in id order, in one pass and one event ahead, to the first break.

    The break is classified by its evidence; where two explanations fit, ``detail`` says so.
    With an ``anchor``, the chain must also reach the anchored event and hold its hash, which
    catches a truncated or rewritten tail. ``start`` is the event before the first record,
    for a part of the chain (an export from a date); by default records start at genesis.
    """
    count = 0
    last_id, last_hash = (None, GENESIS_HASH) if start is None else (start.id, start.hash)
    for record, following in _with_next(records):
        problem = _problem(record, following, last_id, last_hash) or _off(record, anchor)
        if problem is not None:
            return ChainReport(count, last_id, last_hash, problem)
        count, last_id, last_hash = count + 1, record.id, record.hash
    return ChainReport(count, last_id, last_hash, _short_of(last_id, anchor))


def to_document(record: AuditRecord) -> Document:
    """The event as one JSON object, every field and both hashes, for export and the API."""
    return {
        "id": record.id,
        "occurred_at": _timestamp(record.occurred_at),
        "actor": record.actor,
        "action": record.action,
        "entity_type": record.entity_type,
        "entity_id": record.entity_id,
        "before": json_document(record.before, "before"),
        "after": json_document(record.after, "after"),
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def from_document(document: Mapping[str, Any]) -> AuditRecord:
    """An exported event read back; a missing or mistyped field raises ``ValueError``."""
    try:
        record = AuditRecord(
            id=_typed(document["id"], int),
            occurred_at=datetime.fromisoformat(_typed(document["occurred_at"], str)),
            actor=_typed(document["actor"], str),
            action=_typed(document["action"], str),
            entity_type=_typed(document["entity_type"], str),
            entity_id=_typed(document["entity_id"], str, optional=True),
            before=_typed(document["before"], dict, optional=True),
            after=_typed(document["after"], dict, optional=True),
            prev_hash=_typed(document["prev_hash"], str),
            hash=_typed(document["hash"], str),
        )
        record.expected_hash()
    except KeyError as exc:
        raise ValueError(f"not an exported audit event: field {exc} is missing") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not an exported audit event: {exc}") from None
    return record


def _typed(value: Any, kind: type[Any], *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{value!r} is not {kind.__name__}")
    return value


def _off(record: AuditRecord, anchor: Anchor | None) -> ChainProblem | None:
    if anchor is None or record.id != anchor.id or record.hash == anchor.hash:
        return None
    return _altered(
        record.id,
        "its hash differs from the anchor kept outside the database: the chain was rewritten "
        "up to here, hashes recomputed",
    )


def _short_of(last_id: int | None, anchor: Anchor | None) -> ChainProblem | None:
    end = FIRST_ID - 1 if last_id is None else last_id
    if anchor is None or anchor.id <= end:
        return None
    return ChainProblem(
        end + 1,
        ProblemKind.REMOVED,
        f"{_span(end + 1, anchor.id)} missing: the chain ends at event {end} but the anchor "
        f"kept outside the database holds event {anchor.id}",
    )


def _problem(
    record: AuditRecord, following: AuditRecord | None, last_id: int | None, last_hash: str
) -> ChainProblem | None:
    expected_id = FIRST_ID if last_id is None else last_id + 1
    content_ok = record.expected_hash() == record.hash
    if record.prev_hash == last_hash:
        if content_ok and record.id == expected_id:
            return None
        return _altered(record.id, "its content or id no longer matches its hash")
    if following is not None and following.prev_hash == last_hash:
        return ChainProblem(
            record.id,
            ProblemKind.INSERTED,
            f"event {following.id} is chained to the event before it, so it was never part "
            "of the chain",
        )
    if record.id > expected_id:
        return ChainProblem(
            expected_id,
            ProblemKind.REMOVED,
            f"{_span(expected_id, record.id - 1)} missing: event {record.id} is chained to an "
            "event that is no longer there",
        )
    if record.id < expected_id:
        return ChainProblem(record.id, ProblemKind.INSERTED, "its id comes before the chain")
    if content_ok and last_id is None:
        return _altered(record.id, "it does not start from the genesis hash: it was rehashed")
    if content_ok and last_id is not None:
        return _altered(
            last_id,
            f"event {record.id} is chained to a different hash: this event was changed and "
            f"its hash recomputed (or event {record.id} was written by hand)",
        )
    if following is not None and following.prev_hash == record.hash:
        return _altered(record.id, "its link to the event before it was changed")
    return ChainProblem(
        record.id,
        ProblemKind.INSERTED,
        "it is not chained to the event before it and its hash does not match its content "
        "(or an event was changed in both)",
    )


def _span(first: int, last: int) -> str:
    return f"event {first} is" if first == last else f"events {first} to {last} are"


def _altered(event_id: int, detail: str) -> ChainProblem:
    return ChainProblem(event_id, ProblemKind.ALTERED, detail)


def _with_next(
    records: Iterable[AuditRecord],
) -> Iterator[tuple[AuditRecord, AuditRecord | None]]:
    """Each record with the one after it, without holding more than two."""
    iterator = iter(records)
    current = next(iterator, None)
    for following in chain(iterator, [None]):
        if current is None:
            return
        yield current, following
        current = following


def _timestamp(value: datetime) -> str:
    if value.utcoffset() is None:
        raise ValueError(f"audit occurred_at: naive datetime {value!r}; pass an aware UTC time")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _normal(value: Any, field: str) -> Any:
    """A plain copy of a JSON value with numbers in one form; refuses what is not JSON."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _text(value, field)
    if isinstance(value, float):
        return _number(value, field)
    if isinstance(value, Mapping):
        return _object(value, field)
    if isinstance(value, list | tuple):
        return [_normal(v, f"{field}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"audit {field}: {type(value).__name__} is not JSON; convert it first")


def _object(value: Mapping[Any, Any], field: str) -> Document:
    return {_key(k, field): _normal(v, f"{field}.{k}") for k, v in value.items()}


def _number(value: float, field: str) -> int | float:
    if not math.isfinite(value):
        raise ValueError(f"audit {field}: {value} is not a JSON number")
    value = float(value)  # a float subclass (numpy's) has a repr of its own
    if value.is_integer():
        return int(Decimal(repr(value)))
    return value


def _key(key: object, field: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"audit {field}: key {key!r} is not text")
    return _text(key, field)


def _text(value: str, field: str) -> str:
    """PostgreSQL refuses NUL and unpaired surrogates in JSON; refuse them before it does."""
    if "\x00" in value:
        raise ValueError(f"audit {field}: text holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"audit {field}: text is not valid Unicode") from None
    return value
