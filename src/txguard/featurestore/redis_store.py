"""Feature state in Redis, so every scoring process sees the same cards and terminals.

Each key is a sorted set scored by the event's time in milliseconds (exact in a double up
to 2**53, far beyond any epoch time). A member is the event as a compact JSON array, which
round-trips floats exactly and lets one Lua reply carry every event of a read as a single
JSON document: decoding it is one C call instead of one Python parse per event, which
dominates the cost of a read.

Writes and evictions also run as Lua scripts because they must check before they change: a
key holds one event per id even when a redelivered transaction comes back with a different
payload (its "large" flag is computed from a history that now includes itself), and a key is
only dropped if no other process wrote a fresh event to it in the meantime.

This module implements ``txguard.features.state.StateStore`` structurally; it may not import
the core, so the event shape is restated here.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import orjson
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import KeyT

from txguard.domain.errors import ConfigurationError, TxguardError

Event = tuple[int, str, str, float, int]
"""``(time_ms, event_id, tag, value, flag)``, as in ``txguard.features.state``."""

DEFAULT_NAMESPACE = "txguard:fs:"
DEFAULT_TTL_SECONDS = 40 * 86_400
"""Each write restarts its key's clock, so expiry only removes cards and terminals quiet for
longer than any feature looks back, even if no process ever evicts. That reach is 35 days
with the default 7-day label delay (``horizon_ms``); a longer delay needs a longer TTL."""

_BATCH = 500
_DOWN = (RedisConnectionError, RedisTimeoutError)
_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode

_READ = """
local parts = {}
for i, key in ipairs(KEYS) do
  local members = redis.call('ZRANGEBYSCORE', key, '(' .. ARGV[i], '+inf')
  parts[i] = '[' .. table.concat(members, ',') .. ']'
end
return '[' .. table.concat(parts, ',') .. ']'
"""

_WRITE = """
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local time, width = ARGV[4 * i - 2], tonumber(ARGV[4 * i - 1])
  local member, keep = ARGV[4 * i], ARGV[4 * i + 1]
  local head = string.sub(member, 1, width)
  local held = false
  for _, other in ipairs(redis.call('ZRANGEBYSCORE', key, time, time)) do
    if string.sub(other, 1, width) == head then
      held = true
      break
    end
  end
  if not held then
    redis.call('ZADD', key, time, member)
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', keep)
  if ttl > 0 then
    redis.call('EXPIRE', key, ttl)
  end
end
return 0
"""

_EVICT = """
local before = tonumber(ARGV[1])
local dropped = 0
for _, key in ipairs(KEYS) do
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] and tonumber(newest[2]) <= before then
    redis.call('UNLINK', key)
    dropped = dropped + 1
  end
end
return dropped
"""


class FeatureStoreUnavailable(TxguardError):
    """The feature store could not be reached in time; scoring may degrade instead of fail."""


class AppendLike(Protocol):
    """What ``write`` needs of an append (``txguard.features.state.Append`` fits)."""

    @property
    def key(self) -> str: ...

    @property
    def event(self) -> Event: ...

    @property
    def keep_after_ms(self) -> int: ...


def encode_event(event: Event) -> tuple[str, int]:
    """The member for ``event`` and the length of its ``[time,"id",`` head.

    Numbers are coerced first so an equal event always encodes to the same member. The head
    identifies the event within its time; ASCII-only JSON makes its length a byte count.
    """
    time_ms, event_id = int(event[0]), event[1]
    member = _ENCODE([time_ms, event_id, event[2], float(event[3]), int(event[4])])
    return member, len(_ENCODE([time_ms, event_id]))  # '[t,"id"]' is as long as '[t,"id",'


class _Script:
    """A Lua script run by its hash, so a call is one short round trip once the server has it."""

    def __init__(self, client: "redis.Redis", source: str) -> None:
        self._client = client
        self._source = source
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def __call__(self, keys: Sequence[KeyT], args: Sequence[str | int]) -> Any:
        try:
            return self._client.evalsha(self._sha, len(keys), *keys, *args)
        except NoScriptError:  # first use on this server, or its script cache was flushed
            self._client.script_load(self._source)
            return self._client.evalsha(self._sha, len(keys), *keys, *args)


class RedisStore:
    """Feature state in one Redis database, under a key prefix, shared by many processes."""

    def __init__(
        self,
        client: "redis.Redis",
        namespace: str = DEFAULT_NAMESPACE,
        ttl_seconds: int | None = DEFAULT_TTL_SECONDS,
    ) -> None:
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ConfigurationError(f"ttl_seconds must be positive or None, got {ttl_seconds}")
        self.client = client
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds
        self._where = describe(client)
        self._read = _Script(client, _READ)
        self._write = _Script(client, _WRITE)
        self._evict = _Script(client, _EVICT)

    @classmethod
    def from_url(
        cls,
        url: str,
        namespace: str = DEFAULT_NAMESPACE,
        ttl_seconds: int | None = DEFAULT_TTL_SECONDS,
        timeout_seconds: float = 2.0,
    ) -> "RedisStore":
        """A store on its own client, whose calls give up after ``timeout_seconds``.

        A bounded wait keeps an authorisation from hanging on a dead server: the caller gets
        ``FeatureStoreUnavailable`` and can score without state instead.
        """
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds
        )
        return cls(client, namespace, ttl_seconds)

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        """See ``StateStore.read``."""
        if len(keys) != len(after_ms):
            raise ValueError(f"{len(keys)} keys but {len(after_ms)} times")
        if not keys:
            return []
        names: list[KeyT] = [self.namespace + key for key in keys]
        try:
            reply = self._read(names, [int(after) for after in after_ms])
        except _DOWN as exc:
            raise self._unavailable("read", exc) from exc
        return [list(map(tuple, events)) for events in orjson.loads(reply)]

    def write(self, appends: Sequence[AppendLike]) -> None:
        """See ``StateStore.write``."""
        if not appends:
            return
        names: list[KeyT] = []
        args: list[str | int] = [self.ttl_seconds or 0]
        for append in appends:
            member, width = encode_event(append.event)
            names.append(self.namespace + append.key)
            args += [int(append.event[0]), width, member, int(append.keep_after_ms)]
        try:
            self._write(names, args)
        except _DOWN as exc:
            raise self._unavailable("write", exc) from exc

    def evict(self, before_ms: int) -> int:
        """See ``StateStore.evict``; a key written to meanwhile by another process is kept."""
        try:
            return sum(int(self._evict(batch, [int(before_ms)])) for batch in self._batches("zset"))
        except _DOWN as exc:
            raise self._unavailable("evict", exc) from exc

    def ping(self) -> None:
        """One round trip to the server: what a health check needs, unlike ``size``."""
        try:
            self.client.ping()
        except _DOWN as exc:
            raise self._unavailable("ping", exc) from exc

    def size(self) -> int:
        """See ``StateStore.size``; walks the whole namespace, so not for a hot path."""
        try:
            return sum(self._cardinalities())
        except _DOWN as exc:
            raise self._unavailable("size", exc) from exc

    def clear(self) -> None:
        """See ``StateStore.clear``: every key under the namespace, and nothing else."""
        try:
            for batch in self._batches():
                self.client.unlink(*batch)
        except _DOWN as exc:
            raise self._unavailable("clear", exc) from exc

    def _cardinalities(self) -> Iterator[int]:
        """Event counts per key; a key SCAN returns twice (during a rehash) counts once."""
        seen: set[KeyT] = set()
        for batch in self._batches("zset"):
            fresh = [key for key in batch if key not in seen]
            seen.update(fresh)
            pipe = self.client.pipeline(transaction=False)
            for key in fresh:
                pipe.zcard(key)
            yield from (int(count) for count in pipe.execute())

    @property
    def key_pattern(self) -> str:
        """The SCAN pattern of every key under the namespace."""
        return _glob_escape(self.namespace) + "*"

    def _batches(self, of_type: str | None = None) -> Iterator[list[KeyT]]:
        """The namespace's keys (optionally of one Redis type), a few hundred at a time."""
        batch: list[KeyT] = []
        for key in self.client.scan_iter(match=self.key_pattern, count=_BATCH, _type=of_type):
            batch.append(key)
            if len(batch) == _BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def _unavailable(self, operation: str, exc: Exception) -> FeatureStoreUnavailable:
        return FeatureStoreUnavailable(
            f"feature store {operation} failed: Redis at {self._where} is unavailable ({exc})"
        )


def describe(client: "redis.Redis") -> str:
    """The server's address as a URL without credentials, for error messages."""
    pool = client.connection_pool
    options = pool.connection_kwargs
    db = options.get("db", 0)
    if "path" in options:
        return f"unix://{options['path']}?db={db}"
    scheme = "rediss" if "SSL" in pool.connection_class.__name__ else "redis"
    return f"{scheme}://{options.get('host', 'localhost')}:{options.get('port', 6379)}/{db}"


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a SCAN MATCH pattern."""
    return "".join("\\" + char if char in "\\*?[]" else char for char in text)
