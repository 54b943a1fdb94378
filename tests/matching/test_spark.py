"""The same model on Spark (local mode) and on DuckDB: one small file of silo records, the same pairs and clusters."""

from __future__ import annotations

import csv
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from splink import DuckDBAPI

from seamline.matching.decide import ScoredPair, decide
from seamline.matching.model import TrainedModel, predict_pairs, records_frame
from seamline.matching.prepare import prepare
from seamline.matching.spark import spark_backend
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import generate_silo_records


def _file(path: Path) -> Path:
    records = generate_silo_records(generate_people(250, seed=51), seed=52)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", *records[0].fields()])
        for r in records:
            writer.writerow([f"{r.system}:{r.record_key}", *(v or "" for v in r.fields().values())])
    return path


def _clusters(frame: object, by_id: dict[str, dict[str, object]]) -> set[frozenset[str]]:
    pairs = [
        ScoredPair(str(a), str(b), float(p), float(w))
        for a, b, p, w in zip(
            frame.unique_id_l, frame.unique_id_r, frame.match_probability, frame.match_weight, strict=True
        )
    ]
    decided = decide(pairs, by_id, merge_threshold=0.995, review_threshold=0.6)
    groups: dict[str, set[str]] = {}
    for uid, root in decided.clusters.items():
        groups.setdefault(root, set()).add(uid)
    return {frozenset(g) for g in groups.values()}


# On a few hundred records Spark's own work is compiling each query's generated Java and re-planning its stages; off,
# the prediction cost ~28-30 s of the JVM's CPU where it cost ~39-41 (measured at 120 and 250 people, which cost the
# same: the size of the input does not matter here). Query results do not depend on either.
TEST_CONF = {"spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false"}


@pytest.fixture
def spark() -> Iterator[tuple[Any, Any]]:
    api, as_spark = spark_backend("local[2]")
    for key, value in TEST_CONF.items():
        api.spark.conf.set(key, value)
    yield api, as_spark
    api.spark.stop()
    gc.collect()  # py4j's sockets are closed by the collector: let it happen inside this test's warning filter


# py4j leaves the sockets of collect() to the garbage collector; that is Spark's client, not ours.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_gives_the_same_pairs_and_clusters_as_duckdb(
    trained_model: TrainedModel, tmp_path: Path, spark: tuple[Any, Any]
) -> None:
    with _file(tmp_path / "silos.csv").open(newline="", encoding="utf-8") as rows:
        prepared = [{"unique_id": row.pop("id"), **prepare(row)} for row in csv.DictReader(rows)]
    frame = records_frame(prepared)
    by_id = {r["unique_id"]: r for r in prepared}

    on_duckdb = predict_pairs(frame, trained_model.settings, DuckDBAPI(), 0.6)
    api, as_spark = spark
    on_spark = predict_pairs(as_spark(frame), trained_model.settings, api, 0.6)

    weights_duckdb = {
        (a, b): w for a, b, w in zip(on_duckdb.unique_id_l, on_duckdb.unique_id_r, on_duckdb.match_weight, strict=True)
    }
    weights_spark = {
        (a, b): w for a, b, w in zip(on_spark.unique_id_l, on_spark.unique_id_r, on_spark.match_weight, strict=True)
    }
    assert weights_duckdb.keys() == weights_spark.keys()
    assert all(abs(weights_duckdb[k] - weights_spark[k]) < 1e-9 for k in weights_duckdb)
    clusters = _clusters(on_duckdb, by_id)
    assert any(len(c) > 1 for c in clusters)
    assert _clusters(on_spark, by_id) == clusters
