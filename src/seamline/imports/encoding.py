"""A text file's encoding: the one named (UTF-8 by default), unless a byte-order mark says otherwise, and where
the first byte that does not decode sits, by the file's own line, for a report a person can act on.

A byte-order mark is the file saying what it is (Excel's "Unicode text" is UTF-16 with one), so it wins over the
name given, as the WHATWG encoding standard has browsers do.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from seamline.core.errors import FieldError, InvalidInput

DEFAULT = "utf-8"
# Longest first: a UTF-32-LE mark begins with the UTF-16-LE one.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BLOCK = 1 << 16


@dataclass(frozen=True, slots=True)
class Decoding:
    """How to read a file: the codec, how many bytes of byte-order mark to skip first, and whether its first bytes
    look like UTF-16 without a mark (ASCII letters each followed or preceded by a NUL)."""

    codec: str
    skip: int = 0
    looks_utf16: bool = False

    @property
    def name(self) -> str:
        """The codec as people write it (utf-8, utf-16-le, latin-1…)."""
        return codecs.lookup(self.codec).name.replace("_", "-").replace("iso8859", "iso-8859")


def decoding_for(path: Path, encoding: str = DEFAULT) -> Decoding:
    """The file's decoding: its byte-order mark's, else `encoding`; InvalidInput when no codec has that name."""
    try:
        named = codecs.lookup(encoding)
    except LookupError:
        raise InvalidInput(
            [
                FieldError(
                    "encoding", "unknown", f"{encoding!r} is not an encoding; e.g. utf-8, utf-16, cp1252, latin-1"
                )
            ],
            "the encoding is unknown",
        ) from None
    with path.open("rb") as file:
        head = file.read(4)
    for mark, codec in _MARKS:
        if head.startswith(mark):
            return Decoding(codec, len(mark))
    if named.name == "utf-16" or named.name == "utf-32":
        # Named without an order and no mark to give one: the platform's default order is a guess, not the file's.
        raise InvalidInput(
            [
                FieldError(
                    "encoding", "ambiguous", f"the file has no byte-order mark: say {encoding}-le or {encoding}-be"
                )
            ],
            "the byte order is unknown",
        )
    return Decoding(named.name, looks_utf16=named.name.startswith("utf-8") and b"\x00" in head)


def undecodable_line(path: Path, decoding: Decoding) -> tuple[int, bytes]:
    """The line (1-based, as the reader counts lines) of the first bytes that do not decode, and those bytes.

    Called once a read failed: the text reader decodes ahead in blocks, so its position does not say where.
    """
    decoder = codecs.getincrementaldecoder(decoding.codec)()
    counter = _LineCounter()
    with path.open("rb") as file:
        file.seek(decoding.skip)
        while block := file.read(_BLOCK):
            state = decoder.getstate()
            try:
                counter.feed(decoder.decode(block))
                continue
            except UnicodeDecodeError:
                decoder.setstate(state)
            for i in range(len(block)):  # again, a byte at a time, to stop on the culprit
                try:
                    counter.feed(decoder.decode(block[i : i + 1]))
                except UnicodeDecodeError as exc:
                    return counter.line, bytes(exc.object[exc.start : exc.end])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:  # the file ends inside a character
            return counter.line, bytes(exc.object[exc.start : exc.end])
    return counter.line, b""


UTF16_HINT = "the file looks like UTF-16 without a byte-order mark: name its encoding, e.g. --encoding utf-16-le"


def undecodable_reason(decoding: Decoding, culprit: bytes) -> str:
    """What to tell a person whose file does not decode, with what to try."""
    shown = " ".join(f"0x{b:02x}" for b in culprit[:4]) or "the last bytes"
    if decoding.looks_utf16:
        return f"the file is not {decoding.name} here ({shown}): {UTF16_HINT}"
    hint = "e.g. --encoding cp1252 (Windows) or latin-1" if decoding.name.startswith("utf") else "e.g. --encoding utf-8"
    return f"the file is not {decoding.name} here ({shown}): name its encoding, {hint}"


class _LineCounter:
    """Counts lines as the text reader splits them: at \\n, \\r and \\r\\n (a \\r\\n split between two blocks once)."""

    def __init__(self) -> None:
        self.line = 1
        self._after_cr = False

    def feed(self, text: str) -> None:
        if not text:
            return
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        if self._after_cr and text[0] == "\n":
            breaks -= 1
        self.line += breaks
        self._after_cr = text[-1] == "\r"
