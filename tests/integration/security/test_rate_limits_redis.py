"""Rate limits through Redis: shared by processes, and never a failure when Redis is down."""

import socket
from collections.abc import Iterator

import pytest
from tests.fixtures.redis import REDIS_URL

from txguard.security.rate_limits import RateLimiter

pytestmark = pytest.mark.redis


def test_two_limiters_on_one_redis_share_the_count(
    redis_client: object, redis_namespace: str
) -> None:
    first = RateLimiter(REDIS_URL, key_prefix=redis_namespace)
    second = RateLimiter(REDIS_URL, key_prefix=redis_namespace)

    allowed = [
        (first if i % 2 else second).hit("key", "k1", per_minute=4).allowed for i in range(6)
    ]

    assert allowed == [True, True, True, True, False, False]
    assert first.ping()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_storage_lets_calls_through_and_counts_them() -> None:
    now = [1000.0]
    limiter = RateLimiter(
        f"redis://127.0.0.1:{_closed_port()}/0", timeout_s=0.2, cooldown_s=5, clock=lambda: now[0]
    )

    verdicts = [limiter.hit("key", "k1", per_minute=1) for _ in range(3)]

    assert all(v.allowed for v in verdicts)
    assert limiter.failures == 3
    assert not limiter.ping()


@pytest.fixture
def serving_pair(
    redis_client: object, redis_namespace: str
) -> Iterator[tuple[RateLimiter, RateLimiter]]:
    """Two serving processes' limiters on one Redis; they sync only when a test says so."""
    pair = tuple(
        RateLimiter(REDIS_URL, key_prefix=redis_namespace, sync_interval_s=3600) for _ in range(2)
    )
    for limiter in pair:
        limiter.start()
    yield pair[0], pair[1]
    for limiter in pair:
        limiter.stop()


def test_a_high_limit_is_counted_in_each_process_and_shared_at_each_sync(
    serving_pair: tuple[RateLimiter, RateLimiter],
) -> None:
    first, second = serving_pair
    assert all(first.hit("caller", "switch", per_minute=1200).allowed for _ in range(700))
    first.sync()

    later = [second.hit("caller", "switch", per_minute=1200).allowed for _ in range(600)]
    second.sync()
    first.sync()

    assert 495 <= sum(later) <= 520  # 500, unless a minute turned in between
    assert not later[-1] and not first.hit("caller", "switch", per_minute=1200).allowed
    assert 1 <= second.hit("caller", "switch", per_minute=1200).retry_after_s <= 60


def test_a_low_limit_is_counted_in_redis_on_every_call(
    serving_pair: tuple[RateLimiter, RateLimiter],
) -> None:
    first, second = serving_pair

    allowed = [(first if i % 2 else second).hit("login", "alice", 5).allowed for i in range(7)]

    assert allowed == [True] * 5 + [False] * 2
