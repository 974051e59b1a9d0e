"""The renderers publication stores with: Word always, PDF where LibreOffice is installed."""
from __future__ import annotations

from engine.briefings import pdf
from engine.briefings.docx import render_docx
from engine.briefings.service import Renderers


def publishing_renderers(*, with_pdf: bool = True) -> Renderers:
    return Renderers(docx=render_docx, pdf=pdf.docx_to_pdf if with_pdf and pdf.converter() else None)
