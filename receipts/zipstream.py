"""A streaming ZIP writer: the archive is produced chunk by chunk, never held in memory.

Each entry is a local header with unknown sizes, the data (stored or deflated as it is read) and a data
descriptor with the CRC-32 and sizes; the central directory follows the last entry. ZIP64 records are
written where the sizes, offsets or the number of entries need them. Only the central directory's small
per-entry records (about 100 bytes each) are kept until the end.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

STORED = 0
DEFLATED = 8
CHUNK_SIZE = 64 * 1024
LIMIT_32 = 0xFFFFFFFF
LIMIT_16 = 0xFFFF
# Entries of known size at least this large get ZIP64 headers (room for deflate's worst-case growth).
ZIP64_THRESHOLD = LIMIT_32 - (64 << 20)
FLAG_DATA_DESCRIPTOR = 0x08
FLAG_UTF8 = 0x800
VERSION_MADE_BY = (3 << 8) | 45  # Unix, spec 4.5
EXTERNAL_ATTR = 0o100644 << 16  # regular file, rw-r--r--

Content = bytes | bytearray | memoryview | str | os.PathLike | Iterable[bytes]


@dataclass
class _Record:
    name: bytes
    flags: int
    method: int
    zip64: bool
    offset: int
    crc: int = 0
    compressed: int = 0
    size: int = 0


def _dos_datetime(moment: datetime) -> tuple[int, int]:
    year = min(max(moment.year, 1980), 2107)
    dos_time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    dos_date = ((year - 1980) << 9) | (moment.month << 5) | moment.day
    return dos_time, dos_date


def _encode_name(name: str) -> tuple[bytes, int]:
    path = PurePosixPath(name)
    if not name or name.endswith("/") or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise ValueError(f"unsafe or empty entry name: {name!r}")
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), FLAG_UTF8


def _known_size(content: Content) -> int | None:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return len(content)
    if isinstance(content, (str, os.PathLike)):
        return os.stat(content).st_size
    return None


def _chunks(content: Content, chunk_size: int) -> Iterator[bytes]:
    if isinstance(content, (bytes, bytearray, memoryview)):
        view = memoryview(content)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
    elif isinstance(content, (str, os.PathLike)):
        with open(content, "rb") as file:
            while chunk := file.read(chunk_size):
                yield chunk
    else:
        yield from content


def _local_header(record: _Record, dos_time: int, dos_date: int) -> bytes:
    extra = struct.pack("<HHQQ", 0x0001, 16, 0, 0) if record.zip64 else b""
    unknown = LIMIT_32 if record.zip64 else 0
    version = 45 if record.zip64 else 20
    return (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            version,
            record.flags,
            record.method,
            dos_time,
            dos_date,
            0,
            unknown,
            unknown,
            len(record.name),
            len(extra),
        )
        + record.name
        + extra
    )


def _data(record: _Record, chunks: Iterable[bytes], level: int) -> Iterator[bytes]:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15) if record.method == DEFLATED else None
    for chunk in chunks:
        record.crc = zlib.crc32(chunk, record.crc)
        record.size += len(chunk)
        out = compressor.compress(chunk) if compressor else chunk
        if out:
            record.compressed += len(out)
            yield out
    if compressor:
        tail = compressor.flush()
        record.compressed += len(tail)
        yield tail


def _data_descriptor(record: _Record) -> bytes:
    if record.zip64:
        return struct.pack("<IIQQ", 0x08074B50, record.crc, record.compressed, record.size)
    if max(record.size, record.compressed) >= LIMIT_32:
        raise ValueError(f"{record.name!r} is 4 GiB or more: pass zip64=True for entries of unknown size")
    return struct.pack("<IIII", 0x08074B50, record.crc, record.compressed, record.size)


def _central_record(record: _Record, dos_time: int, dos_date: int) -> bytes:
    big = [value for value in (record.size, record.compressed, record.offset) if value >= LIMIT_32]
    zip64 = bool(big) or record.zip64
    fields = [record.size, record.compressed] if zip64 else []
    fields += [record.offset] if record.offset >= LIMIT_32 else []
    extra = struct.pack(f"<HH{len(fields)}Q", 0x0001, 8 * len(fields), *fields) if zip64 else b""
    size, compressed = (LIMIT_32, LIMIT_32) if zip64 else (record.size, record.compressed)
    offset = min(record.offset, LIMIT_32)
    return (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            VERSION_MADE_BY,
            45 if zip64 else 20,
            record.flags,
            record.method,
            dos_time,
            dos_date,
            record.crc,
            compressed,
            size,
            len(record.name),
            len(extra),
            0,
            0,
            0,
            EXTERNAL_ATTR,
            offset,
        )
        + record.name
        + extra
    )


def _end_records(count: int, cd_offset: int, cd_size: int) -> bytes:
    out = b""
    if count >= LIMIT_16 or cd_offset >= LIMIT_32 or cd_size >= LIMIT_32:
        zip64_end_offset = cd_offset + cd_size
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, VERSION_MADE_BY, 45, 0, 0, count, count, cd_size, cd_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, zip64_end_offset, 1)
    return out + struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        min(count, LIMIT_16),
        min(count, LIMIT_16),
        min(cd_size, LIMIT_32),
        min(cd_offset, LIMIT_32),
        0,
    )


def stream_zip(
    entries: Iterable[tuple[str, Content]],
    *,
    method: int = STORED,
    level: int = 6,
    modified: datetime | None = None,
    zip64: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """Yield a ZIP archive of `entries`, each (name, content): bytes, a file path, or an iterable of bytes.

    Files are read `chunk_size` at a time and entries are pulled from `entries` one by one, so memory stays
    flat however many there are. `zip64=True` gives entries of unknown size ZIP64 headers (needed if one may
    reach 4 GiB); entries of known size get them automatically.
    """
    if method not in (STORED, DEFLATED):
        raise ValueError(f"method must be STORED or DEFLATED: {method}")
    dos_time, dos_date = _dos_datetime(modified or datetime.now())
    records: list[_Record] = []
    offset = 0
    for name, content in entries:
        encoded, utf8_flag = _encode_name(name)
        size = _known_size(content)
        needs_zip64 = zip64 if size is None else size >= ZIP64_THRESHOLD
        record = _Record(encoded, FLAG_DATA_DESCRIPTOR | utf8_flag, method, needs_zip64, offset)
        header = _local_header(record, dos_time, dos_date)
        offset += len(header)
        yield header
        for chunk in _data(record, _chunks(content, chunk_size), level):
            offset += len(chunk)
            yield chunk
        descriptor = _data_descriptor(record)
        offset += len(descriptor)
        yield descriptor
        records.append(record)
    yield from _central_directory(records, offset, dos_time, dos_date)


def _central_directory(records: list[_Record], cd_offset: int, dos_time: int, dos_date: int) -> Iterator[bytes]:
    cd_size = 0
    batch: list[bytes] = []
    for record in records:
        batch.append(_central_record(record, dos_time, dos_date))
        if len(batch) == 1024:
            block = b"".join(batch)
            cd_size += len(block)
            batch = []
            yield block
    block = b"".join(batch)
    cd_size += len(block)
    yield block + _end_records(len(records), cd_offset, cd_size)
