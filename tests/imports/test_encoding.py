"""A text file's encoding: the byte-order mark wins over the name given, a name no codec has is refused, and the
first bytes that do not decode are found by the file's own line. Pure: files on disk, no database."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from seamline.core.errors import InvalidInput
from seamline.imports.encoding import Decoding, decoding_for, undecodable_line, undecodable_reason

TEXT = "customer_no,given_name\nC1,Zoë\n"


@pytest.mark.parametrize(
    ("raw", "named", "codec", "skip"),
    [
        (TEXT.encode("utf-8"), "utf-8", "utf-8", 0),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8", "utf-8", 3),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-8", "utf-16-le", 2),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "latin-1", "utf-16-be", 2),  # the mark wins
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "utf-8", "utf-32-le", 4),
        (TEXT.encode("latin-1"), "latin-1", "iso8859-1", 0),
        (TEXT.encode("cp1252"), "CP1252", "cp1252", 0),
    ],
)
def test_the_mark_or_the_name_says_how_to_read(tmp_path: Path, raw: bytes, named: str, codec: str, skip: int) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(raw)
    decoding = decoding_for(path, named)
    assert (decoding.codec, decoding.skip) == (codec, skip)
    assert raw[skip:].decode(decoding.codec) == TEXT


def test_an_unknown_or_orderless_encoding_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(TEXT.encode("utf-16-le"))
    for name, code in (("klingon", "unknown"), ("utf-16", "ambiguous"), ("utf-32", "ambiguous")):
        with pytest.raises(InvalidInput) as refused:
            decoding_for(path, name)
        assert [(e.field, e.code) for e in refused.value.errors] == [("encoding", code)]
    assert decoding_for(path).looks_utf16
    assert decoding_for(path, "utf-16-le").codec == "utf-16-le"


def test_the_first_undecodable_byte_is_found_by_its_line_past_the_first_block(tmp_path: Path) -> None:
    # 70,000 lines with every kind of line break, the bad byte far beyond the first 64 KB block.
    breaks = ("\n", "\r\n", "\r")
    good = "".join(f"C{n},Name{n}{breaks[n % 3]}" for n in range(70_000))
    path = tmp_path / "people.csv"
    path.write_bytes(good.encode("utf-8") + b"C70000,Zo\xeb\nC70001,Ann\n")
    decoding = decoding_for(path)
    assert undecodable_line(path, decoding) == (70_001, b"\xeb")
    assert undecodable_reason(decoding, b"\xeb") == (
        "the file is not utf-8 here (0xeb): name its encoding, e.g. --encoding cp1252 (Windows) or latin-1"
    )


def test_a_file_that_ends_inside_a_character_is_found_too(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"id\nC1\n\xe2\x82")
    assert undecodable_line(path, Decoding("utf-8")) == (3, b"\xe2\x82")
