"""The streaming ZIP writer: readable by zipfile with verified CRCs, lazy, and flat in memory."""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from datetime import datetime

import pytest

from receipts import zipstream
from receipts.zipstream import DEFLATED, STORED, stream_zip

MOMENT = datetime(2026, 3, 1, 12, 30, 10)


def build(entries, **options) -> bytes:
    return b"".join(stream_zip(entries, modified=MOMENT, **options))


def sample_entries(tmp_path):
    pdf = tmp_path / "receipt.pdf"
    if not pdf.exists():
        pdf.write_bytes(os.urandom(150_000))
    return [
        ("KS-2026-000001.pdf", pdf),
        ("KS-2026-000002.pdf", str(pdf)),
        ("notes/übersicht.txt", "Grüße aus Kassel\n".encode() * 500),
        ("generated.bin", iter([b"a" * 70_000, b"", b"b" * 10])),
        ("empty.txt", b""),
    ]


@pytest.mark.parametrize("method", [STORED, DEFLATED])
def test_the_archive_opens_with_zipfile_and_every_crc_verifies(tmp_path, method):
    archive = zipfile.ZipFile(io.BytesIO(build(sample_entries(tmp_path), method=method)))
    assert archive.testzip() is None
    pdf = (tmp_path / "receipt.pdf").read_bytes()
    assert archive.read("KS-2026-000001.pdf") == pdf
    assert archive.read("KS-2026-000002.pdf") == pdf
    assert archive.read("notes/übersicht.txt") == "Grüße aus Kassel\n".encode() * 500
    assert archive.read("generated.bin") == b"a" * 70_000 + b"b" * 10
    assert archive.read("empty.txt") == b""
    info = archive.getinfo("notes/übersicht.txt")
    assert info.compress_type == method
    assert info.flag_bits & 0x08  # sizes follow the data in a data descriptor
    assert info.date_time == (2026, 3, 1, 12, 30, 10)


def test_deflating_shrinks_compressible_entries(tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(build(sample_entries(tmp_path), method=DEFLATED)))
    info = archive.getinfo("notes/übersicht.txt")
    assert info.compress_size < info.file_size / 10


def test_the_same_entries_and_time_give_the_same_bytes(tmp_path):
    assert build(sample_entries(tmp_path)) == build(sample_entries(tmp_path))


def test_entries_are_pulled_one_at_a_time():
    pulled = []

    def entries():
        for i in range(3):
            pulled.append(i)
            yield f"{i}.txt", b"x"

    stream = stream_zip(entries(), modified=MOMENT)
    next(stream)
    assert pulled == [0]


def test_more_than_65535_entries_get_zip64_end_records():
    archive = zipfile.ZipFile(io.BytesIO(build((f"{i:06d}.txt", b"x") for i in range(70_000))))
    assert len(archive.infolist()) == 70_000
    assert archive.read("069999.txt") == b"x"


def test_zip64_headers_are_written_for_large_entries_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setattr(zipstream, "ZIP64_THRESHOLD", 1000)  # so a small entry counts as large
    entries = sample_entries(tmp_path)
    archive = zipfile.ZipFile(io.BytesIO(build(entries, zip64=True)))
    assert archive.testzip() is None
    assert archive.read("KS-2026-000001.pdf") == (tmp_path / "receipt.pdf").read_bytes()
    assert archive.getinfo("KS-2026-000001.pdf").extra.startswith(b"\x01\x00")


@pytest.mark.parametrize("name", ["", "../escape.pdf", "/etc/passwd", "a/../../b", "dir/", "a\\b.pdf"])
def test_unsafe_entry_names_are_refused(name):
    with pytest.raises(ValueError):
        build([(name, b"x")])


def test_an_unknown_compression_method_is_refused():
    with pytest.raises(ValueError):
        build([("a", b"x")], method=12)


def test_memory_stays_flat_for_many_entries(tmp_path):
    count, size = 2_000, 50 * 1024
    files = tmp_path / "files"
    files.mkdir()
    block = os.urandom(size)
    for i in range(count):
        (files / f"{i:06d}.pdf").write_bytes(block[i:] + block[:i])
    target = tmp_path / "export.zip"
    tracemalloc.start()
    try:
        with target.open("wb") as out:
            for chunk in stream_zip(((p.name, p) for p in sorted(files.iterdir())), modified=MOMENT):
                out.write(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    total = count * size
    assert peak < total / 20, f"peak {peak:,} bytes for {total:,} bytes of entries"
    with zipfile.ZipFile(target) as archive:
        assert len(archive.infolist()) == count
        assert archive.testzip() is None
