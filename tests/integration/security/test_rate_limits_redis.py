"""Rate limits through Redis: shared by processes, and never a failure when Redis is down."""

import socket

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
