"""Evidence photos re-encoded from their pixels: upright, without EXIF (GPS), and proven to be images."""
from __future__ import annotations

import warnings
from pathlib import Path

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

MAX_PIXELS = 60_000_000  # a 50-megapixel phone photo passes; a decompression bomb does not
# Declared type -> (the formats Pillow must find in the content, the type stored, Pillow's writer).
IMAGE_TYPES = {
    "image/jpeg": (("JPEG", "MPO"), "image/jpeg", "JPEG"),
    "image/png": (("PNG",), "image/png", "PNG"),
    "image/gif": (("GIF",), "image/gif", "GIF"),
    "image/webp": (("WEBP",), "image/webp", "WEBP"),
    "image/heic": (("HEIF",), "image/jpeg", "JPEG"),  # iPhone photos: converted, since browsers show no HEIC
    "image/heif": (("HEIF",), "image/jpeg", "JPEG"),
}
SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


class NotAnImage(ValueError):
    """The content does not decode as the declared kind of image."""


def reencode(source: Path, target: Path, declared: str) -> str:
    """Decode `source` fully as `declared` and write it to `target` rotated upright with no metadata; return
    the stored content type. Raises NotAnImage for anything else (a PNG header followed by HTML, say)."""
    formats, stored, writer = IMAGE_TYPES[declared]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                if image.format not in formats:
                    raise NotAnImage(f"content is not {declared}")
                if image.width * image.height > MAX_PIXELS:
                    raise NotAnImage(f"the image has more than {MAX_PIXELS} pixels")
                image.load()
                _write(image, target, writer)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, NotAnImage):
            raise
        raise NotAnImage(f"content is not {declared}: it does not decode as one") from None
    return stored


def _write(image: Image.Image, target: Path, writer: str) -> None:
    if writer == "GIF":  # keep an animation's frames; GIF carries no EXIF to strip
        image.save(target, "GIF", save_all=getattr(image, "n_frames", 1) > 1)
        return
    upright = ImageOps.exif_transpose(image)  # applies the EXIF orientation; no EXIF is written back
    if writer == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    options = {"quality": 90} if writer in ("JPEG", "WEBP") else {}
    upright.save(target, writer, **options)
