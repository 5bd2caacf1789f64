"""An optional per-app request budget, so clients can be tested against 429s that
come from their own pace rather than from an injected fault.

One token bucket per key (the calling token's app id; the sandbox has a single
user): it holds at most ``rate`` requests (at least one), starts full and refills
continuously at ``rate`` per second on ``time.monotonic``, so a wall-clock jump
neither grants nor withholds budget. Pinterest documents its limits per user per
app and answers an exceeded one with 429, code 8 and ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from .errors import CODE_RATE_LIMIT, RATE_LIMITED, ApiError


@dataclass
class _Bucket:
    tokens: float
    updated: float  # time.monotonic() of the last refill


class RateLimiter:
    """``charge(key)`` spends one request from ``key``'s bucket; thread safe."""

    def __init__(self, rate: float) -> None:
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate_limit must be a positive number of requests per second, not {rate!r}")
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)  # below 1/s a bucket still holds one request
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def charge(self, key: str) -> dict[str, str]:
        """The X-RateLimit headers for an allowed request, or the 429 ApiError."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            tokens = bucket.tokens
        headers = {"X-RateLimit-Limit": f"{self.rate:g}"}
        if allowed:
            headers["X-RateLimit-Remaining"] = str(math.floor(tokens))
            return headers
        headers.update(
            {
                "Retry-After": str(max(1, math.ceil((1.0 - tokens) / self.rate))),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(max(1, math.ceil((self.capacity - tokens) / self.rate))),
            }
        )
        raise ApiError(429, CODE_RATE_LIMIT, RATE_LIMITED, headers=headers)
