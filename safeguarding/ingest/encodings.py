"""Wide text encodings (UTF-16, UTF-32) in CSV exports: found by their byte-order mark or their NUL bytes.

Excel's "Unicode Text" export and several case systems write UTF-16. Read as
UTF-8 or Windows-1252, such a file still splits into rows and columns, but
every value carries NUL bytes, so every row is rejected. With ``encoding:
auto`` the reader decodes these files itself; with an explicit narrow
encoding (``utf-8``, ``cp1252``) it refuses them, naming the setting to use.
"""

from __future__ import annotations

from safeguarding.ingest.errors import IngestError

#: Values of ``inputs.<table>.encoding`` for wide encodings (``utf-16``/``utf-32``: order from the BOM or bytes).
WIDE_ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")

_BOMS = (  # longest first: the UTF-32 little-endian mark begins with the UTF-16 one
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
#: Bytes looked at when guessing a wide encoding without a byte-order mark.
SNIFF_BYTES = 1 << 12


def _bom(data: bytes) -> str | None:
    for mark, codec in _BOMS:
        if data.startswith(mark):
            return codec
    return None


def sniff_wide(data: bytes) -> str | None:
    """The wide codec (``utf-16-le`` ... ``utf-32-be``) the bytes are written in, or None.

    A byte-order mark decides. Without one, text whose NUL bytes fall (nearly)
    all in the same positions of each 2- or 4-byte unit is taken as UTF-16 or
    UTF-32 (a CSV always holds commas and line ends, which are ASCII, so a wide
    CSV file always has such NUL bytes).
    """
    codec = _bom(data)
    if codec is not None:
        return codec
    sample = data[:SNIFF_BYTES]
    n = len(sample) - len(sample) % 4
    if n < 4 or sample.count(0) < n // 4:
        return None
    units = n // 4
    nul = [sum(1 for b in sample[k:n:4] if b == 0) / units for k in range(4)]
    hi, lo = 0.6, 0.05

    def pattern(zeros: tuple[int, ...]) -> bool:
        return all(nul[k] >= hi if k in zeros else nul[k] <= lo for k in range(4))

    if pattern((1, 2, 3)):
        return "utf-32-le"
    if pattern((0, 1, 2)):
        return "utf-32-be"
    if pattern((1, 3)):
        return "utf-16-le"
    if pattern((0, 2)):
        return "utf-16-be"
    return None


def _label(codec: str) -> str:
    return codec.split("-")[0].upper() + "-" + codec.split("-")[1]


def _setting(codec: str) -> str:
    """The value to write in ``inputs.<table>.encoding`` for a detected codec."""
    return "utf-16" if codec.startswith("utf-16") else "utf-32"


def _codec_for(setting: str, data: bytes) -> str:
    """The exact codec for an ``encoding`` setting: ``utf-16`` takes its byte order from the BOM or the bytes."""
    if setting.endswith(("-le", "-be")):
        return setting
    found = sniff_wide(data)
    if found is not None and found.startswith(setting):
        return found
    return f"{setting}-le"  # Windows writes little-endian


def _strict_decode(data: bytes, codec: str, where: str, key: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(codec, errors="replace").count("\n") + 1
        raise IngestError(f"{where}: line {line} is not valid {_label(codec)} text (byte {exc.start}).", file=where,
                          row=line, key=f"{key}.encoding",
                          fix=f"set {key}.encoding to auto, or save the file again from Excel as 'CSV UTF-8'",
                          code="encoding") from None


def decode_wide(data: bytes, encoding: str, where: str, key: str) -> tuple[str, str, list[str]] | None:
    """Decode a UTF-16/UTF-32 file; None when neither the setting nor the bytes say it is one.

    Returns ``(text, codec used, warnings)`` like the reader's own decoding.
    Raises :class:`IngestError` (naming ``<key>.encoding``) when the file is
    wide but a narrow encoding is configured, when a wide encoding is
    configured but the file is not wide, or when the text is empty.
    """
    warnings: list[str] = []
    if encoding in WIDE_ENCODINGS:
        if _bom(data) is None and b"\x00" not in data[:SNIFF_BYTES]:
            raise IngestError(
                f"{where}: {key}.encoding is {encoding} but the file is not UTF-16 or UTF-32 text (no byte-order "
                "mark and no NUL bytes).", file=where, key=f"{key}.encoding",
                fix=f"set {key}.encoding: auto (or remove it) in report.yml", code="encoding")
        codec = _codec_for(encoding, data)
        text = _strict_decode(data, codec, where, key)
    else:
        sniffed = sniff_wide(data)
        if sniffed is None:
            return None
        codec = sniffed
        how = ("it starts with a " + _label(codec) + " byte-order mark" if _bom(data) else
               "NUL bytes sit between its characters")
        if encoding != "auto":
            raise IngestError(
                f"{where}: the file is {_label(codec)} text ({how}; Excel's 'Unicode Text' export writes this), "
                f"not {encoding}: read as {encoding} every value would be garbled and every row rejected.",
                file=where, key=f"{key}.encoding",
                fix=f"set {key}.encoding: {_setting(codec)} (or auto) in report.yml, or save the file again from "
                    "Excel as 'CSV UTF-8'", code="encoding")
        text = data.decode(codec, errors="replace")
        bad = text.count("\ufffd") - data.decode(codec, errors="ignore").count("\ufffd")
        if bad:
            warnings.append(f"{bad} character(s) are not valid {_label(codec)} and were replaced by '\ufffd' "
                            "(is the file cut short?)")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip(" \t\r\n\x00"):
        raise IngestError(f"{where}: the file is empty.", file=where, key=f"{key}.file",
                          fix=f"export the data again, or point {key}.file at the right file", code="empty file")
    return text, codec, warnings
