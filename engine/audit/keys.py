"""The audit key ring: HMAC keys kept outside the database, each known by an id written on the rows it signs."""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InvalidInput

MIN_SECRET_BYTES = 16  # 128 bits; `xuncha audit keygen` makes 256


@dataclass(frozen=True)
class KeyRing:
    """Secrets by key id; `current` signs new rows, every key verifies the rows that name it."""

    keys: dict[str, bytes] = field(default_factory=dict)
    current: str | None = None

    def __bool__(self) -> bool:
        return self.current is not None

    def sign(self, row_hash: str) -> tuple[str | None, str | None]:
        """(key id, MAC) for a row hash, or (None, None) when no key is configured (a plain chain)."""
        if self.current is None:
            return None, None
        return self.current, mac(self.keys[self.current], row_hash)

    @classmethod
    def parse(cls, text: str, origin: str) -> KeyRing:
        """One key a line, `id=secret` or a bare secret (its id is derived from it); the last line signs."""
        keys, current = {}, None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key_id, sep, secret = line.partition("=")
            if not sep:
                key_id, secret = derived_id(line), line
            key_id, secret = key_id.strip(), secret.strip()
            if not key_id or len(key_id) > 32 or not key_id.isascii():
                raise InvalidInput(f"{origin}:{number}: key id must be 1-32 ASCII characters")
            if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
                raise InvalidInput(f"{origin}:{number}: the secret of key {key_id!r} is shorter than "
                                   f"{MIN_SECRET_BYTES} bytes")
            keys[key_id], current = secret.encode("utf-8"), key_id
        return cls(keys, current)

    @classmethod
    def from_env(cls, environ=os.environ) -> KeyRing:
        """XUNCHA_AUDIT_KEY_FILE (a key ring file) or XUNCHA_AUDIT_KEY (one key); neither: no key."""
        path = environ.get("XUNCHA_AUDIT_KEY_FILE")
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"XUNCHA_AUDIT_KEY_FILE {path}: cannot read: {exc}") from None
            ring = cls.parse(text, path)
            if not ring:
                raise InvalidInput(f"XUNCHA_AUDIT_KEY_FILE {path}: no key in the file")
            return ring
        if environ.get("XUNCHA_AUDIT_KEY"):
            return cls.parse(environ["XUNCHA_AUDIT_KEY"], "XUNCHA_AUDIT_KEY")
        return cls()


def derived_id(secret: str) -> str:
    # Eight hex digits of a hash of the key: tells keys apart without revealing anything usable about them.
    return "k" + hashlib.sha256(b"xuncha-audit-key-id\n" + secret.encode("utf-8")).hexdigest()[:8]


def mac(secret: bytes, row_hash: str) -> str:
    return hmac.new(secret, row_hash.encode("ascii"), hashlib.sha256).hexdigest()
