"""Cover image processing: only real JPEG, PNG and WebP pass, and what comes out is clean and bounded."""

from __future__ import annotations

import io
import random
import resource
import struct
import warnings
import zlib

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from crowdfund import images
from crowdfund.images import ImageRejected, ProcessedImage, RejectCode, process_cover_image

RED = (220, 20, 20)
BLUE = (20, 20, 220)
GREEN = (20, 200, 20)

# EXIF orientation 6: the stored picture is shown turned 90° clockwise; 3: 180°; 8: 90° anticlockwise.
ROTATE_CLOCKWISE, UPSIDE_DOWN, ROTATE_ANTICLOCKWISE = 6, 3, 8
CORRUPT_EXIF = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\xff\xff\xff\xff"


# Factories


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def red_left_blue_right(width: int = 400, height: int = 200) -> Image.Image:
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def noise(width: int, height: int) -> Image.Image:
    return Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.ImageDescription] = "Garden behind Kassel Hbf"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 19.0, 5.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (9.0, 29.0, 23.0)
    return exif


def camera_jpeg(orientation: int = 1, image: Image.Image | None = None) -> bytes:
    picture = image or red_left_blue_right()
    return encode(
        picture,
        "JPEG",
        quality=95,
        exif=camera_exif(orientation),
        icc_profile=b"fake-icc-profile",
        comment=b"SecretComment",
        xmp=b"<x:xmpmeta>SecretXmp</x:xmpmeta>",
    )


def transparent_left_green_right() -> Image.Image:
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((*GREEN, 255), (100, 0, 200, 100))
    return image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header but carries almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def decoded(result: ProcessedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


def close_to(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def rejection(data: bytes, **limits: int) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_cover_image(data, **limits)
    return caught.value


# Accepted formats and output


def test_jpeg_is_re_encoded_as_webp_with_its_dimensions() -> None:
    result = process_cover_image(encode(red_left_blue_right(), "JPEG"))
    assert (result.mime, result.width, result.height) == ("image/webp", 400, 200)
    assert decoded(result).format == "WEBP"
    assert decoded(result).size == (400, 200)


def test_png_and_webp_uploads_are_accepted() -> None:
    for fmt in ("PNG", "WEBP"):
        result = process_cover_image(encode(red_left_blue_right(), fmt))
        assert (result.width, result.height, result.mime) == (400, 200, "image/webp")


def test_colours_survive_the_round_trip() -> None:
    image = decoded(process_cover_image(encode(red_left_blue_right(), "PNG")))
    assert close_to(image.getpixel((50, 100)), RED)
    assert close_to(image.getpixel((350, 100)), BLUE)


# Metadata


def test_exif_gps_icc_xmp_and_comments_are_all_removed() -> None:
    result = process_cover_image(camera_jpeg())
    image = decoded(result)
    assert not set(image.info) & {"exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp"}
    assert dict(image.getexif()) == {}
    for secret in (b"Exif", b"SecretCam", b"Kassel", b"fake-icc", b"SecretComment", b"SecretXmp"):
        assert secret not in result.data


def test_the_test_jpeg_really_carries_the_metadata_that_must_be_removed() -> None:
    image = Image.open(io.BytesIO(camera_jpeg(ROTATE_CLOCKWISE)))
    assert image.getexif()[ExifTags.Base.Orientation] == ROTATE_CLOCKWISE
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert image.info["icc_profile"] == b"fake-icc-profile"


def test_png_text_chunks_are_removed() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Person")
    result = process_cover_image(encode(red_left_blue_right(), "PNG", pnginfo=info))
    assert b"Secret Person" not in result.data


# Orientation


def test_exif_rotation_of_90_degrees_is_applied_and_swaps_the_sides() -> None:
    result = process_cover_image(camera_jpeg(ROTATE_CLOCKWISE))
    image = decoded(result)
    assert (result.width, result.height) == (200, 400) == image.size
    assert close_to(image.getpixel((100, 50)), RED)
    assert close_to(image.getpixel((100, 350)), BLUE)


def test_exif_rotation_the_other_way_puts_the_left_side_at_the_bottom() -> None:
    image = decoded(process_cover_image(camera_jpeg(ROTATE_ANTICLOCKWISE)))
    assert image.size == (200, 400)
    assert close_to(image.getpixel((100, 350)), RED)
    assert close_to(image.getpixel((100, 50)), BLUE)


def test_upside_down_exif_swaps_left_and_right() -> None:
    image = decoded(process_cover_image(camera_jpeg(UPSIDE_DOWN)))
    assert image.size == (400, 200)
    assert close_to(image.getpixel((50, 100)), BLUE)
    assert close_to(image.getpixel((350, 100)), RED)


def test_corrupt_exif_is_ignored_without_any_warning_escaping() -> None:
    data = encode(red_left_blue_right(), "JPEG", exif=CORRUPT_EXIF)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = process_cover_image(data)
    assert (result.width, result.height) == (400, 200)


# Alpha


def test_png_transparency_is_kept_in_webp() -> None:
    image = decoded(process_cover_image(encode(transparent_left_green_right(), "PNG")))
    assert image.mode == "RGBA"
    assert image.getpixel((50, 50))[3] <= 10
    assert close_to(image.getpixel((150, 50)), (*GREEN, 255))


def test_palette_png_with_a_transparent_colour_keeps_its_transparency() -> None:
    palette = transparent_left_green_right().convert("P", palette=Image.Palette.ADAPTIVE, colors=2)
    transparent_index = palette.getpixel((10, 10))
    image = decoded(process_cover_image(encode(palette, "PNG", transparency=transparent_index)))
    assert image.mode == "RGBA"
    assert image.getpixel((50, 50))[3] <= 10


def test_opaque_images_come_out_without_an_alpha_channel() -> None:
    assert decoded(process_cover_image(encode(red_left_blue_right(), "PNG"))).mode == "RGB"


def test_without_webp_the_output_is_jpeg_with_alpha_flattened_on_white(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(images, "_webp_available", lambda: False)
    result = process_cover_image(encode(transparent_left_green_right(), "PNG"))
    image = decoded(result)
    assert (result.mime, image.format, image.mode) == ("image/jpeg", "JPEG", "RGB")
    assert close_to(image.getpixel((50, 50)), (255, 255, 255), tolerance=8)
    assert close_to(image.getpixel((150, 50)), GREEN)


def test_jpeg_fallback_also_strips_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "_webp_available", lambda: False)
    result = process_cover_image(camera_jpeg(ROTATE_CLOCKWISE))
    assert b"Exif" not in result.data and b"Kassel" not in result.data
    assert decoded(result).size == (200, 400)


# Resizing


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((3200, 1000), (1600, 500)),
        ((1000, 4000), (400, 1600)),
        ((1600, 1600), (1600, 1600)),
        ((300, 200), (300, 200)),
    ],
)
def test_longer_side_is_scaled_down_to_1600_and_small_images_are_not_enlarged(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    result = process_cover_image(encode(Image.new("RGB", size, GREEN), "PNG"))
    assert (result.width, result.height) == expected == decoded(result).size


def test_a_large_rotated_jpeg_is_turned_then_scaled() -> None:
    result = process_cover_image(camera_jpeg(ROTATE_CLOCKWISE, red_left_blue_right(4000, 3000)))
    assert (result.width, result.height) == (1200, 1600)
    assert close_to(decoded(result).getpixel((600, 200)), RED)


def test_max_side_can_be_chosen_by_the_caller() -> None:
    result = process_cover_image(encode(red_left_blue_right(), "PNG"), max_side=100)
    assert (result.width, result.height) == (100, 50)


# Rejections


def test_upload_over_max_bytes_is_rejected_before_decoding() -> None:
    error = rejection(b"\x00" * (5 * 1024 * 1024 + 1))
    assert (error.code, error.message) == (RejectCode.TOO_LARGE, "The file is larger than 5 MB.")


def test_upload_of_exactly_max_bytes_is_accepted() -> None:
    data = encode(red_left_blue_right(), "PNG")
    assert process_cover_image(data, max_bytes=len(data)).width == 400
    assert rejection(data, max_bytes=len(data) - 1).code == RejectCode.TOO_LARGE


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM"])
def test_other_image_formats_are_rejected_as_unsupported(fmt: str) -> None:
    error = rejection(encode(red_left_blue_right(64, 32), fmt))
    assert error.code == RejectCode.UNSUPPORTED_FORMAT
    assert "JPEG, PNG or WebP" in error.message


def test_text_file_named_png_is_not_an_image() -> None:
    text_file = b"This is not a picture, whatever cover.png says.\n" * 10
    error = rejection(text_file)
    assert (error.code, str(error)) == (RejectCode.NOT_AN_IMAGE, "The file is not a readable image.")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_file_is_not_an_image(fmt: str) -> None:
    data = encode(noise(256, 256), fmt)
    assert rejection(data[: len(data) // 2]).code == RejectCode.NOT_AN_IMAGE


def test_image_over_max_pixels_is_rejected() -> None:
    data = encode(Image.new("RGB", (100, 100), GREEN), "PNG")
    assert rejection(data, max_pixels=9_999).code == RejectCode.TOO_MANY_PIXELS
    assert process_cover_image(data, max_pixels=10_000).width == 100


def test_header_claiming_49_megapixels_is_rejected_by_our_limit() -> None:
    error = rejection(png_header_only(7_000, 7_000))
    assert (error.code, error.message) == (
        RejectCode.TOO_MANY_PIXELS,
        "The image has more than 40 megapixels.",
    )


def test_decompression_bomb_is_rejected_without_allocating_its_pixels() -> None:
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = rejection(png_header_only(20_000, 20_000))
    growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert error.code == RejectCode.TOO_MANY_PIXELS
    assert growth_kib < 100 * 1024  # 400 million 1-bit pixels would need 400 MB once decoded


def test_pillow_bomb_warning_is_turned_into_a_rejection_not_a_warning() -> None:
    # 100 megapixels: above Pillow's warning threshold, below its error threshold and our raised limit.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = rejection(png_header_only(10_000, 10_000), max_pixels=200_000_000)
    assert error.code == RejectCode.TOO_MANY_PIXELS


def test_processing_leaves_pillows_global_pixel_limit_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    rejection(png_header_only(20_000, 20_000))
    assert before == Image.MAX_IMAGE_PIXELS


def test_empty_upload_is_rejected_with_a_stable_code_and_a_readable_message() -> None:
    error = rejection(b"")
    assert error.code == "empty"
    assert str(error) == error.message == "The file is empty."


def test_truncated_files_are_refused_even_after_weasyprint_relaxed_pillow_process_wide():
    from PIL import ImageFile

    import receipts.pdf  # noqa: F401  (importing WeasyPrint sets LOAD_TRUNCATED_IMAGES = True)

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    whole = _png_bytes_for_truncation()
    with pytest.raises(ImageRejected) as info:
        process_cover_image(whole[: len(whole) // 2])
    assert info.value.code == RejectCode.NOT_AN_IMAGE
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # our strict load restores the global afterwards


def _png_bytes_for_truncation() -> bytes:
    import io
    import random

    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("RGB", (200, 200), bytes(rng.randrange(256) for _ in range(200 * 200 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
