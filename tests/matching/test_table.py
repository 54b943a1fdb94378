"""Prepared records held by column: the frame from a stream, and each row read back as a record. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from seamline.matching.prepare import COLUMNS, prepare
from seamline.matching.table import FrameRecords, records_frame

ADA = {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1815-12-10", "postcode": "SW1Y 4JH"}


def _stream() -> Iterator[dict[str, Any]]:
    yield {"unique_id": "1", **prepare(ADA)}
    yield {"unique_id": "2", **prepare({"first_name": "Grace", "last_name": "Hopper"})}


def test_a_stream_of_records_becomes_the_frame_and_each_row_reads_back_as_the_record() -> None:
    frame = records_frame(_stream())
    assert list(frame.columns) == ["unique_id", *COLUMNS]
    assert all(str(dtype) == "object" for dtype in frame.dtypes)
    records = FrameRecords(frame)
    assert list(records) == ["1", "2"]
    ada = records["1"]
    assert dict(ada) == {"unique_id": "1", **prepare(ADA)}
    assert ada.get("first_name_forms") == prepare(ADA)["first_name_forms"]
    assert records["2"].get("date_of_birth") is None
    assert records["2"].get("not a column", "absent") == "absent"
