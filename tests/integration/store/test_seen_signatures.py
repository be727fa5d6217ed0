"""Replay protection on both backends: a signature is accepted once, and forgotten when stale."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from txguard.store.orm import SeenSignatureRow
from txguard.store.signatures import remember

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WINDOW = 300


def stored(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(SeenSignatureRow.signature)))


def test_a_signature_is_accepted_once(engine: Engine) -> None:
    first = remember(engine, "a" * 64, NOW, WINDOW)
    again = remember(engine, "a" * 64, NOW + timedelta(seconds=5), WINDOW)
    other = remember(engine, "b" * 64, NOW, WINDOW)

    assert (first, again, other) == (True, False, True)
    assert stored(engine) == ["a" * 64, "b" * 64]


def test_of_concurrent_calls_with_one_signature_exactly_one_is_accepted(engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        accepted = list(pool.map(lambda _: remember(engine, "c" * 64, NOW, WINDOW), range(8)))

    assert accepted.count(True) == 1


def test_signatures_older_than_twice_the_window_are_forgotten(engine: Engine) -> None:
    remember(engine, "1" * 64, NOW - timedelta(seconds=2 * WINDOW + 1), WINDOW)
    remember(engine, "2" * 64, NOW - timedelta(seconds=2 * WINDOW - 1), WINDOW)

    remember(engine, "3" * 64, NOW, WINDOW)

    assert stored(engine) == ["2" * 64, "3" * 64]
