"""Rate limits in one process: counting, separate callers, dry checks, and clearing."""

from txguard.security.rate_limits import RateLimiter


def test_calls_beyond_the_limit_are_refused_with_a_wait_within_the_minute() -> None:
    limiter = RateLimiter.in_memory()

    verdicts = [limiter.hit("key", "k1", per_minute=3) for _ in range(4)]

    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 1 <= verdicts[-1].retry_after_s <= 60


def test_each_caller_has_a_counter_of_its_own() -> None:
    limiter = RateLimiter.in_memory()
    for _ in range(2):
        limiter.hit("key", "k1", per_minute=2)

    assert not limiter.hit("key", "k1", per_minute=2).allowed
    assert limiter.hit("key", "k2", per_minute=2).allowed
    assert limiter.hit("user", "k1", per_minute=2).allowed


def test_a_dry_check_does_not_count_and_clearing_forgets() -> None:
    limiter = RateLimiter.in_memory()
    limiter.hit("login", "alice", per_minute=1)

    assert not limiter.test("login", "alice", per_minute=1).allowed
    limiter.clear("login", "alice", per_minute=1)
    assert limiter.test("login", "alice", per_minute=1).allowed
    assert limiter.test("login", "alice", per_minute=1).allowed
