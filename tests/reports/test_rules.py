"""The pure parts of the reports area: filters, cadences, the export and the catalog's slots."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import orjson
import pytest

from seamline.reports.cadence import next_run
from seamline.reports.catalog import REPORTS, entry
from seamline.reports.export import encoded
from seamline.reports.filters import BadFilter, Filters, filters_of
from seamline.reports.tiles import Table
from seamline.users.permissions import PERMISSIONS


def test_filters_read_from_a_query_and_back() -> None:
    f = filters_of(
        {"since": "2026-11-01", "until": "2026-11-30", "product": " MTG-3 ", "channel": "email", "split": "product",
         "segment": "premier"}, {"premier", "everyday"},
    )  # fmt: skip
    assert f == Filters(date(2026, 11, 1), date(2026, 11, 30), "MTG-3", "email", "premier", "product")
    assert filters_of(f.as_query()) == f
    # `segment=product` was the product split before customer segments: saved reports and links keep working.
    assert filters_of({"segment": "product"}) == Filters(split="product")
    assert f.window(date(2026, 12, 5)) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert Filters().window(date(2026, 12, 5))[0] == datetime(2026, 11, 6, tzinfo=UTC)  # the last 30 days


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "since"),
        ({"channel": "E-MAIL!"}, "channel"),
        ({"segment": "Agent!"}, "segment"),
        ({"split": "agent"}, "split"),
        ({"product": "x" * 201}, "product"),
    ],
)
def test_a_bad_filter_names_its_field(values: dict[str, str], field: str) -> None:
    with pytest.raises(BadFilter) as refused:
        filters_of(values)
    assert refused.value.field == field


def test_a_segment_must_be_one_of_the_segments_file() -> None:
    with pytest.raises(BadFilter) as refused:
        filters_of({"segment": "vip"}, {"premier"})
    assert (refused.value.field, str(refused.value)) == ("segment", "no segment 'vip'; known: premier")


def test_cadences() -> None:
    friday_noon = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert next_run("daily", 7, None, friday_noon) == datetime(2026, 12, 5, 7, tzinfo=UTC)
    assert next_run("daily", 13, None, friday_noon) == datetime(2026, 12, 4, 13, tzinfo=UTC)
    assert next_run("weekly", 7, 0, friday_noon) == datetime(2026, 12, 7, 7, tzinfo=UTC)  # Monday
    assert next_run("weekly", 12, 4, friday_noon) == datetime(2026, 12, 11, 12, tzinfo=UTC)  # not the same instant


def test_one_export_of_a_table_as_csv_and_json() -> None:
    table = Table("t", "T", ("name", "count", "share"), ({"share": 0.5, "name": "=HYPERLINK(1)", "count": 3},))
    rows = list(csv.DictReader(io.StringIO(encoded(table, "csv").decode())))
    assert rows == [{"name": "'=HYPERLINK(1)", "count": "3", "share": "0.5"}]  # a formula is never run
    assert orjson.loads(encoded(table, "json")) == [{"name": "=HYPERLINK(1)", "count": 3, "share": 0.5}]


def test_the_catalog_names_real_permissions_and_every_part_fills_its_slot() -> None:
    assert all(r.permission in PERMISSIONS for r in REPORTS)
    overview = entry("overview")
    assert overview is not None
    assert overview.is_dashboard
    assert {s.key for s in overview.tiles if s.provider is None} == set()  # every part is installed
    assert {"funnels", "paths", "feedback", "errors"} <= {r.key for r in REPORTS}
    assessment = entry("assessment")
    assert assessment is not None
    assert not assessment.is_dashboard
