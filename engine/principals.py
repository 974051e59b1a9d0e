"""Who a bearer token names, remembered for a few seconds so a request does not look the token up each time.

Every API request carried a token lookup (a query and a hash) and the unit tree walk for the actor's reach.
A token's user is kept for PRINCIPAL_TTL: a user disabled, given a new token or changed in this process is
forgotten as its change commits (and at once, so a request in between cannot re-learn the old user); a change
made by another process (`xuncha user disable` from a shell, another worker) counts within PRINCIPAL_TTL. The
expiry time is checked on every request, and at most MAX_PRINCIPALS tokens are kept (oldest dropped first).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from engine.actors import Actor

PRINCIPAL_TTL = 10.0  # seconds
MAX_PRINCIPALS = 10_000


@dataclass
class Principal:
    actor: Actor
    expires_at: datetime | None
    used_at: datetime | None  # the last use recorded, so the once-a-minute write still happens
    learned: float  # time.monotonic() when read from the database


class Principals:
    def __init__(self, ttl: float = PRINCIPAL_TTL, size: int = MAX_PRINCIPALS):
        self.ttl, self.size = ttl, size
        self._lock = threading.Lock()
        self._by_hash: dict[str, Principal] = {}

    def get(self, token_hash: str) -> Principal | None:
        with self._lock:
            known = self._by_hash.get(token_hash)
            if known is not None and time.monotonic() - known.learned > self.ttl:
                del self._by_hash[token_hash]
                known = None
            return known

    def put(self, token_hash: str, principal: Principal) -> None:
        with self._lock:
            self._by_hash.pop(token_hash, None)
            self._by_hash[token_hash] = principal
            while len(self._by_hash) > self.size:
                del self._by_hash[next(iter(self._by_hash))]

    def forget(self, user_id: int) -> None:
        with self._lock:
            for key in [k for k, p in self._by_hash.items() if p.actor.user_id == user_id]:
                del self._by_hash[key]

    def clear(self) -> None:
        with self._lock:
            self._by_hash.clear()
