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


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_last_minutes_calls_fade_out_as_the_window_slides() -> None:
    clock = Clock(600.0)  # the start of a minute
    limiter = RateLimiter.in_memory(clock)
    assert all(limiter.hit("key", "k1", per_minute=10).allowed for _ in range(10))
    refused = limiter.hit("key", "k1", per_minute=10)
    assert not refused.allowed
    assert refused.retry_after_s == 60  # this minute's calls alone fill the limit

    clock.now = 660.0 + 30  # half way through the next minute: half of the 10 still count
    verdicts = [limiter.hit("key", "k1", per_minute=10) for _ in range(6)]

    assert [v.allowed for v in verdicts] == [True] * 5 + [False]
    assert 1 <= verdicts[-1].retry_after_s <= 6  # one more fits once 0.1 of 10 has faded


def test_a_caller_idle_for_two_minutes_starts_afresh() -> None:
    clock = Clock(600.0)
    limiter = RateLimiter.in_memory(clock)
    for _ in range(3):
        limiter.hit("key", "k1", per_minute=3)

    clock.now = 600.0 + 120
    assert all(limiter.hit("key", "k1", per_minute=3).allowed for _ in range(3))
    assert not limiter.hit("key", "k1", per_minute=3).allowed
