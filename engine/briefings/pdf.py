"""PDF from a briefing's .docx through LibreOffice headless, with the office fonts mapped by fontconfig."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.errors import Conflict

FONTS_CONF = Path(__file__).with_name("fonts.conf")
TIMEOUT = 600  # seconds; a briefing of 1,500 findings with photos is a long document


def converter() -> str | None:
    """The LibreOffice program, or None where it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: bytes) -> bytes:
    """Convert with a private LibreOffice profile (so conversions may run side by side)."""
    program = converter()
    if program is None:
        raise Conflict("PDF needs LibreOffice on the server (apt-get install libreoffice-writer-nogui "
                       "fonts-noto-cjk); the .docx and .html are available")
    with tempfile.TemporaryDirectory(prefix="xuncha-pdf-") as work:
        source = Path(work) / "briefing.docx"
        source.write_bytes(docx)
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "HOME": work}
        command = [program, f"-env:UserInstallation=file://{work}/profile", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", work, str(source)]
        try:
            # A fixed program and argv of our own temporary paths; no shell.
            done = subprocess.run(command, env=env, capture_output=True, timeout=TIMEOUT, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            raise Conflict(f"LibreOffice did not convert the briefing within {TIMEOUT} s") from None
        target = source.with_suffix(".pdf")
        if done.returncode != 0 or not target.is_file():
            message = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-500:]
            raise Conflict(f"LibreOffice could not convert the briefing: {message or 'no output'}")
        return target.read_bytes()
