"""Cover image uploads: check what the bytes really are, then re-encode a clean, bounded copy.

Nothing of the upload is passed on: the pixels are decoded, turned upright, scaled down and written
into a new file, so EXIF (GPS included), ICC profiles, XMP and comments never reach the site.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError, features

ACCEPTED_FORMATS: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP"})
QUALITY = 82
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
# Exceptions Pillow raises for bytes that are broken rather than merely unusual.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError)


class RejectCode(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_MANY_PIXELS = "too_many_pixels"


class ImageRejected(Exception):
    """An upload that is not an acceptable cover image; `code` is stable, `message` is for people."""

    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    width: int
    height: int
    mime: str


def process_cover_image(
    data: bytes, *, max_bytes: int = 5 * 1024 * 1024, max_pixels: int = 40_000_000, max_side: int = 1600
) -> ProcessedImage:
    """Return a clean, upright, bounded re-encoding of an uploaded JPEG, PNG or WebP image.

    The decoded format decides, not the file name; byte size and pixel count are checked before
    any pixel is decoded. The result is WebP (JPEG where this Pillow lacks WebP) without metadata.
    """
    _check_size(data, max_bytes)
    with warnings.catch_warnings():
        # Pillow warns about benign oddities (corrupt EXIF, palette transparency); a bomb is an error.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _read(data, max_pixels, max_side)
    return _encode(image)


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise ImageRejected(RejectCode.EMPTY, "The file is empty.")
    if len(data) > max_bytes:
        limit = f"{max_bytes / (1024 * 1024):.1f}".removesuffix(".0")
        raise ImageRejected(RejectCode.TOO_LARGE, f"The file is larger than {limit} MB.")


def _read(data: bytes, max_pixels: int, max_side: int) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            _check_header(image, max_pixels)
            # JPEG only: decode at a reduced scale that still covers max_side, saving memory and time.
            image.draft(None, (max_side, max_side))
            _load_strictly(image)
            return _normalise(image, max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except _DECODE_ERRORS:
        raise ImageRejected(RejectCode.NOT_AN_IMAGE, "The file is not a readable image.") from None


_STRICT_LOAD = threading.Lock()


def _load_strictly(image: Image.Image) -> None:
    """Decode the whole image, refusing truncated files even where another library (WeasyPrint sets
    ImageFile.LOAD_TRUNCATED_IMAGES at import) has told Pillow to accept them process-wide."""
    with _STRICT_LOAD:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _check_header(image: Image.Image, max_pixels: int) -> None:
    # Runs after Image.open has read only the header: nothing is decoded or allocated yet.
    if image.format not in ACCEPTED_FORMATS:
        message = f"{image.format} images are not accepted; please upload JPEG, PNG or WebP."
        raise ImageRejected(RejectCode.UNSUPPORTED_FORMAT, message)
    if image.width * image.height > max_pixels:
        raise _too_many_pixels(max_pixels)


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    megapixels = f"{max_pixels / 1_000_000:g}"
    return ImageRejected(RejectCode.TOO_MANY_PIXELS, f"The image has more than {megapixels} megapixels.")


def _normalise(image: Image.Image, max_side: int) -> Image.Image:
    upright = ImageOps.exif_transpose(image)
    mode = "RGBA" if _has_alpha(upright) else "RGB"
    converted = upright.convert(mode)
    converted.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A fresh image from raw pixels carries no info dict: no EXIF, ICC, XMP or comments survive.
    return Image.frombytes(mode, converted.size, converted.tobytes())


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)


def _encode(image: Image.Image) -> ProcessedImage:
    buffer = io.BytesIO()
    if _webp_available():
        image.save(buffer, "WEBP", quality=QUALITY, method=4)
        mime = "image/webp"
    else:
        _flatten_on_white(image).save(buffer, "JPEG", quality=QUALITY, optimize=True)
        mime = "image/jpeg"
    return ProcessedImage(buffer.getvalue(), image.width, image.height, mime)


def _flatten_on_white(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _webp_available() -> bool:
    return bool(features.check("webp"))
