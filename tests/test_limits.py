"""The per-client rate limit: a moving window from the limits library, in this process's
memory or in a real Redis that several instances share, failing open when Redis goes away."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.errors import ConfigError
from assistant.web.limits import RETRY_S, Rate, RateLimiter, open_storage
from tests.redis_server import RedisServer, redis_server


class FakeClock:
    """A clock the test moves by hand (how long a failed Redis is left alone)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_in_memory_the_limit_holds_per_client_and_per_scope() -> None:
    storage = open_storage("memory://")
    questions = RateLimiter(Rate(3, 60.0), storage, scope="questions")
    votes = RateLimiter(Rate(3, 60.0), storage, scope="feedback")

    assert [questions.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = questions.hit("a")
    assert 59.0 < wait <= 60.0  # the first of the three leaves the window in a minute
    assert questions.hit("b") == 0.0  # per client
    assert votes.hit("a") == 0.0  # per scope, on the same storage


def test_two_instances_on_one_redis_share_one_limit(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        # two storages, as two app processes would open them
        first = RateLimiter(Rate(5, 60.0), open_storage(redis.url))
        second = RateLimiter(Rate(5, 60.0), open_storage(redis.url))
        allowed = [(first if i % 2 else second).hit("10.0.0.1") == 0.0 for i in range(12)]
        assert allowed.count(True) == 5  # the limit once, not twice
        assert allowed[:5] == [True] * 5
        assert first.hit("10.0.0.2") == 0.0  # another client has a count of its own


def test_when_redis_goes_away_questions_pass_and_the_limit_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        limiter = RateLimiter(Rate(2, 60.0), open_storage(redis.url), clock=clock)
        assert [limiter.hit("a") for _ in range(3)][2] > 0  # the limit holds

        redis.stop()
        with caplog.at_level(logging.WARNING, logger="assistant.web.limits"):
            passed = [limiter.hit("a") for _ in range(5)]
            clock.now += RETRY_S + 0.1  # tried again after a while: still down
            passed.append(limiter.hit("a"))
        assert passed == [0.0] * 6  # fail open: answered, not refused, not an error
        assert limiter.failing
        warnings = [r for r in caplog.records if "not enforced" in r.getMessage()]
        assert len(warnings) == 1  # said once, not once per request

        redis.start()  # the same address, empty (no persistence)
        clock.now += RETRY_S + 0.1
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="assistant.web.limits"):
            results = [limiter.hit("a") for _ in range(3)]
        assert results[:2] == [0.0, 0.0] and results[2] > 0  # it holds again
        assert not limiter.failing
        assert any("enforced again" in r.getMessage() for r in caplog.records)
    finally:
        redis.stop()


def test_a_redis_that_never_answered_lets_requests_through() -> None:
    # nothing listens on port 1: connecting is refused at once
    limiter = RateLimiter(Rate(1, 60.0), open_storage("redis://127.0.0.1:1"))
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("memory://", "memory://"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        (" redis://cache:6379/2 ", "redis://cache:6379/2"),
        (
            "rediss://user:secret@cache.example.org:6380",
            "rediss://user:secret@cache.example.org:6380",
        ),
        ("memcached://x:1", None),
        ("redis:/nohost", None),
        ("redis://host:6379/db with space", None),
    ],
)
def test_the_storage_setting_is_checked_at_start(value: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ConfigError, match="ASSISTANT_RATE_LIMIT_STORAGE"):
            load_settings(rate_limit_storage=value)
    else:
        assert load_settings(rate_limit_storage=value).rate_limit_storage == expected
