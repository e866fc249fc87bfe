"""Tell what a file is from its first bytes: a workbook, a Parquet file, an archive, text.

Used before a reader runs, so that a workbook, a Parquet file or a zip archive handed to a
source that reads CSV gets a message naming what the file is and what the source reads,
instead of whatever the CSV parser makes of binary bytes. Only magic numbers (and, for a
zip, the names of its members) are looked at; text encodings are the text readers' concern.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from odse.readers.inputs import InputData

WORKBOOK = "workbook"
TEXT = "text"


@dataclass(frozen=True)
class Kind:
    """What a file is."""

    name: str          # xlsx, xls, ods, parquet, zip, ... or text
    label: str         # for a person: "an XLSX workbook"
    family: str        # workbook, text, data, archive, document

    @property
    def is_workbook(self) -> bool:
        """True for a spreadsheet workbook odse can read with the excel extra."""
        return self.family == WORKBOOK


TEXT_KIND = Kind("text", "text", TEXT)

# magic number -> kind; checked in order, longest first where they share a prefix
_MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     Kind("xls", "an XLS workbook (Excel 97-2003, BIFF)", WORKBOOK)),
    (b"PAR1", Kind("parquet", "a Parquet file", "data")),
    (b"ARROW1", Kind("arrow", "an Arrow IPC file", "data")),
    (b"ORC", Kind("orc", "an ORC file", "data")),
    (b"Obj\x01", Kind("avro", "an Avro file", "data")),
    (b"SQLite format 3\x00", Kind("sqlite", "an SQLite database", "data")),
    (b"%PDF", Kind("pdf", "a PDF document", "document")),
    (b"\x89PNG", Kind("png", "a PNG image", "document")),
    (b"\xff\xd8\xff", Kind("jpeg", "a JPEG image", "document")),
    (b"7z\xbc\xaf\x27\x1c", Kind("7z", "a 7-Zip archive", "archive")),
    (b"BZh", Kind("bzip2", "a bzip2-compressed file", "archive")),
    (b"\xfd7zXZ\x00", Kind("xz", "an xz-compressed file", "archive")),
    (b"\x28\xb5\x2f\xfd", Kind("zstd", "a zstd-compressed file", "archive")),
    (b"Rar!", Kind("rar", "a RAR archive", "archive")),
)
_ZIP = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"


def identify(data: InputData) -> Kind:
    """Return what ``data`` is (gzip input is looked at decompressed)."""
    try:
        head = data.head(1024)
    except (OSError, EOFError):
        return Kind("gzip", "a damaged gzip file", "damaged") if data.gzip else TEXT_KIND
    kind = _kind_of(head, data)
    if data.gzip and kind is not TEXT_KIND:
        return Kind(kind.name, f"{kind.label}, gzip-compressed", kind.family)
    return kind


def _kind_of(head: bytes, data: InputData) -> Kind:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith((_ZIP, _EMPTY_ZIP)):
        return _zip_kind(data)
    if len(head) > 262 and head[257:262] == b"ustar":
        return Kind("tar", "a tar archive", "archive")
    return TEXT_KIND


def _zip_kind(data: InputData) -> Kind:
    """Tell an XLSX/XLSM/ODS workbook (zip containers) from another zip archive."""
    try:
        source = data.path if data.path is not None and not data.gzip \
            else io.BytesIO(data.read_all())
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                if "xl/vbaProject.bin" in names:
                    return Kind("xlsm", "an XLSM workbook (Excel with macros)", WORKBOOK)
                if "xl/workbook.bin" in names:
                    return Kind("xlsb", "an XLSB workbook (binary Excel)", WORKBOOK)
                return Kind("xlsx", "an XLSX workbook", WORKBOOK)
            if "mimetype" in names:
                mime = archive.read("mimetype")[:100]
                if b"opendocument.spreadsheet" in mime:
                    return Kind("ods", "an ODS workbook (OpenDocument)", WORKBOOK)
                return Kind("opendocument", "an OpenDocument file (not a spreadsheet)",
                            "document")
            if "word/document.xml" in names:
                return Kind("docx", "a Word document", "document")
            listed = sorted(names)
            first = ", ".join(listed[:3]) + (", ..." if len(listed) > 3 else "")
            return Kind("zip", f"a zip archive ({len(names)} files: {first})", "archive")
    except (zipfile.BadZipFile, OSError, EOFError):
        return Kind("zip", "a damaged zip archive", "archive")


def what_to_do(kind: Kind) -> str:
    """Say what to do with a file of this kind that a source cannot read."""
    if kind.family == "damaged":
        return "The file is damaged or cut short: fetch or export it again"
    if kind.family == "archive":
        return "Unpack it and pass the export inside, one file at a time"
    if kind.name in ("parquet", "arrow", "orc", "avro"):
        return ("It holds a table already: read it with pyarrow or a query engine; odse reads "
                "the CSV, JSON or workbook exports of a portal")
    return "Pass the portal's CSV, JSON or workbook export"
