"""The tamper-evident audit log: per-finding and per-record hash chains, HMAC keys, anchors and verification.

Other code needs only `record_change` / `record_row` (an audit row for a change of anything a score or a rule
depends on) and, for findings, `services.log_change`, which calls `append`.
"""
from engine.audit.anchors import Anchor
from engine.audit.chain import (
    GENESIS,
    SCORED,
    TRACKED,
    append,
    canonical_time,
    effects,
    entry_hash,
    last_entry,
    record_change,
    record_row,
    row_hash,
)
from engine.audit.keys import KeyRing
from engine.audit.verify import ChainReport, verify

__all__ = ["GENESIS", "SCORED", "TRACKED", "Anchor", "ChainReport", "KeyRing", "append", "canonical_time",
           "effects", "entry_hash", "last_entry", "record_change", "record_row", "row_hash", "verify"]
