"""JSON as UTF-8 with Chinese left readable, falling back to \\u escapes only for text UTF-8 cannot carry."""
from __future__ import annotations

import json
import re

from flask.json.provider import DefaultJSONProvider

_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(value, **kwargs) -> str:
    # Lone surrogates (from "\ud800" escapes in JSON or YAML input) cannot be encoded as UTF-8; escaping
    # them keeps the answer valid JSON that says exactly what was received.
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return json.dumps(value, ensure_ascii=True, **kwargs) if _SURROGATE.search(text) else text


class JSONProvider(DefaultJSONProvider):
    ensure_ascii = False

    def dumps(self, obj, **kwargs) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs.pop("ensure_ascii", None)
        return dumps(obj, **kwargs)
