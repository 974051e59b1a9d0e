"""The HTML view of a briefing's content: the same sections as the Word file, photos inlined."""
from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, select_autoescape

from engine.briefings.docx import NUMERALS, percent

_ENV = Environment(loader=PackageLoader("engine.briefings", "templates"), autoescape=select_autoescape(["html"]))
_ENV.filters["percent"] = percent


def render_html(content: dict, photo=lambda _sha: None) -> str:
    """A standalone page; `photo(sha256)` finds a photo's file, inlined as a data URI."""
    def image(ph: dict | None) -> str | None:
        path = photo(ph["sha256"]) if ph else None
        if path is None:
            return None
        return f"data:{ph['content_type']};base64,{base64.b64encode(path.read_bytes()).decode()}"

    return _ENV.get_template("briefing.html").render(c=content, image=image, numerals=NUMERALS)
