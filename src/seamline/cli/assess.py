"""`seamline assess --out DIR`: the whole communications assessment as files for a steering meeting."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer

from seamline.assessment.scope import scope_of


def assess(
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="The folder to write the files into.")],
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD), included.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD), included.")] = None,
    product: Annotated[str | None, typer.Option(help="Only this product's communications.")] = None,
) -> None:
    """Write the communications assessment as files for a steering meeting (CSV, JSON and an SVG flow map).

    Inventory, flow map (picture and data), effectiveness, bottlenecks and redundancy."""
    try:
        scope = scope_of(date.fromisoformat(since) if since else None, date.fromisoformat(until) if until else None,
                         product)  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(f"a day is YYYY-MM-DD: {exc}") from exc
    # Imported here, not at the top: the reports (on DuckDB), the templates and the domains they read cost ~0.6 s,
    # which `seamline assess --help` need not pay.
    from seamline.assessment.export import REPORTS, csv_text, report_records
    from seamline.assessment.service import Assessment
    from seamline.cli.session import engine_for, load_settings
    from seamline.communications.templates import Catalog
    from seamline.console.charts import sankey, sankey_svg
    from seamline.journeys.service import collection_counts
    from seamline.journeys.steptimes import step_times

    settings = load_settings()
    engine = engine_for(settings)
    try:
        reports = Assessment(
            engine, Catalog(settings.email.templates_dir), settings.assessment, collection_counts, step_times
        )
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for report in REPORTS:
            records = report_records(reports, report, scope)
            name = "flow-map-edges" if report == "flow" else report.replace("_", "-")
            (out / f"{name}.csv").write_text(csv_text(records), encoding="utf-8")
            (out / f"{name}.json").write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
            written.append(f"{name}: {len(records)} rows")
        flow = reports.flow_map(scope)
        (out / "flow-map.json").write_bytes(orjson.dumps(flow.as_data(), option=orjson.OPT_INDENT_2))
        (out / "flow-map.plotly.json").write_bytes(orjson.dumps(sankey(flow)))
        (out / "flow-map.svg").write_text(sankey_svg(flow), encoding="utf-8")
    finally:
        engine.dispose()
    typer.echo("\n".join(written))
    typer.echo(f"flow map: {flow.total} communications, {len(flow.edges)} edges → {out / 'flow-map.svg'}")
