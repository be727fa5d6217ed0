"""The request log's storage side on both backends: a flush lands whole or not at all."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from txguard.domain.requests import RequestLogEntry
from txguard.store.exceptions import StorageError
from txguard.store.orm import RequestLogRow
from txguard.store.request_log import RequestLogWriter

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _entry(i: int, **changes: object) -> RequestLogEntry:
    values: dict[str, object] = {
        "received_at": START + timedelta(milliseconds=i),
        "route": "/api/v1/predict",
        "transaction_id": f"tx-{i}",
        "card_token": f"{i:040x}",
        "model_version": "m-1",
        "decision": "approve",
        "status_code": 200,
        "latency_ms": 1.25 + i,
    }
    values.update(changes)
    return RequestLogEntry(**values)  # type: ignore[arg-type]


def _stored(engine: Engine) -> list[RequestLogEntry]:
    with Session(engine) as session:
        rows = session.scalars(select(RequestLogRow).order_by(RequestLogRow.id))
        return [
            RequestLogEntry(
                received_at=row.received_at,
                route=row.route,
                transaction_id=row.transaction_id,
                card_token=row.card_token,
                model_version=row.model_version,
                decision=row.decision,
                status_code=row.status_code,
                latency_ms=row.latency_ms,
            )
            for row in rows
        ]


def test_a_batch_is_stored_as_given_in_order(engine: Engine) -> None:
    entries = [_entry(i) for i in range(250)]
    entries.append(
        _entry(
            250,
            transaction_id=None,
            card_token=None,
            model_version=None,
            decision=None,
            status_code=422,
        )
    )
    RequestLogWriter(engine)(entries)
    assert _stored(engine) == entries


def test_received_at_comes_back_in_utc_whatever_zone_it_was_given_in(engine: Engine) -> None:
    paris = timezone(timedelta(hours=1))
    RequestLogWriter(engine)([_entry(0, received_at=datetime(2026, 11, 1, 13, 0, tzinfo=paris))])
    assert _stored(engine)[0].received_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_nothing_to_write_is_not_an_error(engine: Engine) -> None:
    RequestLogWriter(engine)([])
    assert _stored(engine) == []


def test_a_failed_flush_stores_none_of_its_entries(engine: Engine) -> None:
    broken = _entry(5, received_at=datetime(2026, 11, 1, 12, 0))  # naive: refused
    with pytest.raises(StorageError, match="request_log"):
        RequestLogWriter(engine)([_entry(i) for i in range(5)] + [broken])
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(RequestLogRow)) == 0
