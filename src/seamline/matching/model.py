"""The Fellegi-Sunter model in Splink: its settings from our comparisons, unsupervised training, label updates,
batch prediction on any Splink backend, and the versioned model file.

Splink (v4) is the field's maintained implementation of Fellegi-Sunter at scale: the same settings run as SQL on
DuckDB in-process and on Spark, with term-frequency adjustment, u by random sampling and m by expectation-
maximisation. The model file is Splink's own settings JSON (so `Linker(df, settings)` loads it anywhere) beside
our version metadata.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pandas as pd
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.database_api import DatabaseAPISubClass
from splink.internals.dialects import SplinkDialect

from seamline.matching.comparisons import BLOCKING_KEYS, COMPARISONS, Comparison, Level
from seamline.matching.config import MatchingConfig
from seamline.matching.scoring import fill_untrained
from seamline.matching.table import records_frame as records_frame  # re-exported: the frame is the model's input
from seamline.matching.training import (
    PERSONAL_COMPARISONS,
    SessionM,
    check_trained,
    estimated_prior,
    m_from_unconditioned_blocks,
    measured_prior,
    pairs_in_block,
    present_fields,
    training_blocks,
    without_true_matches,
)

FILE_PREFIX = "model-"
DEFAULT_MEMORY_LIMIT = MatchingConfig().training_memory_limit
# Pseudo-count of the trained m values when labels update them: ten reviewed pairs move m a third of the way.
LABEL_PRIOR_PAIRS = 20.0
# Splink logs every training step at INFO; an operator's terminal wants the result, not the iterations.
logging.getLogger("splink").setLevel(logging.WARNING)


class _SwappedLevel(ComparisonLevelCreator):
    """Each side's `column` within `edits` of the other side's `other`, both ways (first and last names swapped),
    the two `column` values not equal, in the backend's own Damerau-Levenshtein function."""

    def __init__(self, column: str, other: str, edits: int) -> None:
        self.column, self.other, self.edits = column, other, edits

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        distance = sql_dialect.damerau_levenshtein_function_name
        a, b, n = self.column, self.other, self.edits
        return f"{a}_l <> {a}_r AND {distance}({a}_l, {b}_r) <= {n} AND {distance}({b}_l, {a}_r) <= {n}"

    def create_label_for_charts(self) -> str:
        return f"{self.column} and {self.other} swapped"


def _splink_level(level: Level) -> ComparisonLevelCreator:
    built: ComparisonLevelCreator
    if level.kind == "swapped":
        built = _SwappedLevel(level.column, level.other, int(level.threshold))
    elif level.kind == "exact":
        built = cll.ExactMatchLevel(level.column)
    elif level.kind == "forms":
        built = cll.ArrayIntersectLevel(level.column, min_intersection=1)
    elif level.kind == "jaro_winkler":
        built = cll.JaroWinklerLevel(level.column, level.threshold)
    elif level.kind == "levenshtein":
        built = cll.LevenshteinLevel(level.column, int(level.threshold))
    else:
        built = cll.DamerauLevenshteinLevel(level.column, int(level.threshold))
    if level.tf:
        # Our tf levels are exact matches themselves; Splink's detection of that parses the SQL in the backend's
        # dialect and misses it on Spark, so say it outright.
        built = built.configure(
            tf_adjustment_column=level.column, tf_adjustment_weight=1.0, disable_tf_exact_match_detection=True
        )
    return built.configure(label_for_charts=level.label)


def _null_level(comparison: Comparison) -> ComparisonLevelCreator:
    """A value missing on either side; or the pair at a level another comparison counts (names swapped)."""
    missing = cll.NullLevel(comparison.missing_when)
    elsewhere = comparison.counted_elsewhere
    if elsewhere is None:
        return missing
    return cll.Or(missing, _splink_level(elsewhere)).configure(
        is_null_level=True, label_for_charts=f"missing, or {elsewhere.label} (counted in another comparison)"
    )


def _splink_comparison(comparison: Comparison) -> Any:
    return cl.CustomComparison(
        output_column_name=comparison.field,
        comparison_levels=[
            _null_level(comparison),
            *(_splink_level(level) for level in comparison.levels),
            cll.ElseLevel().configure(label_for_charts="differs"),
        ],
        comparison_description=comparison.field,
    )


def settings_creator(prior: float = 0.0001) -> SettingsCreator:
    """Untrained settings: dedupe of one table of prepared records keyed by `unique_id`."""
    return SettingsCreator(
        probability_two_random_records_match=prior,
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[_splink_comparison(c) for c in COMPARISONS],
        blocking_rules_to_generate_predictions=[block_on(*keys) for keys in BLOCKING_KEYS],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A trained model: Splink's settings dict, and our metadata."""

    settings: dict[str, Any]
    version: int
    trained_at: datetime
    records: int
    labels: int

    def as_json(self) -> bytes:
        meta = {
            "version": self.version,
            "trained_at": self.trained_at.isoformat(),
            "records": self.records,
            "labels": self.labels,
            "splink_version": splink.__version__,
            "engine": "seamline.matching",
        }
        return orjson.dumps({"seamline": meta, "splink_settings": self.settings}, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> TrainedModel:
        body = orjson.loads(data)
        meta = body["seamline"]
        return cls(
            settings=body["splink_settings"],
            version=int(meta["version"]),
            trained_at=datetime.fromisoformat(meta["trained_at"]),
            records=int(meta["records"]),
            labels=int(meta["labels"]),
        )

    @property
    def name(self) -> str:
        return f"v{self.version}"


# What training's joins hold per record beyond the fixed floor: EM's comparison vectors join every blocked pair to
# both records, and at 1,000,000 records that ran out of 128MB (it ran in 1GB).
TRAINING_BYTES_PER_RECORD = 1024
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def training_memory(floor: str, records: int) -> str:
    """DuckDB's bound for training on `records`: the configured floor, or TRAINING_BYTES_PER_RECORD a record when
    that is more (a fixed bound that suits 10,000 records fails at a million; one that suits a million lets DuckDB
    fill it at 10,000 while it samples pairs for u)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B?)\s*", floor.upper())
    if found is None:
        raise ValueError(f"not a memory size: {floor!r}")
    floor_bytes = float(found.group(1)) * _UNITS[found.group(2)]
    return f"{max(floor_bytes, records * TRAINING_BYTES_PER_RECORD) / 2**20:.0f}MiB"


def duckdb_api(memory_limit: str = DEFAULT_MEMORY_LIMIT) -> DuckDBAPI:
    """An in-process DuckDB for Splink, its memory bounded (DuckDB's own default is 80% of the machine, and it fills
    what it is given), spilling beyond the bound to a temporary folder of its own (DuckDB's default is `.tmp` in the
    working directory, which two processes would share), removed with the connection."""
    spill = tempfile.mkdtemp(prefix="seamline-duckdb-")
    config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit, "temp_directory": spill}
    api = DuckDBAPI(connection=duckdb.connect(":memory:", config=config))
    weakref.finalize(api, shutil.rmtree, spill, True)
    return api


def train_settings(
    records: pd.DataFrame,
    *,
    u_max_pairs: float,
    seed: int = 7,
    db_api: DuckDBAPI | None = None,
    u_without_true_matches: bool = False,
) -> dict[str, Any]:
    """Train without labels on DuckDB: the prior from near-certain rules, u from random pairs, m by EM over blocks
    chosen from the fields the data has. TrainingRefused (saying why and what to map) for a degenerate model."""
    present = present_fields(records)
    blocks = training_blocks(present, lambda keys: pairs_in_block(records, keys))
    prior = estimated_prior(records)
    linker = Linker(records, settings_creator(prior), db_api=db_api or duckdb_api(), set_up_basic_logging=False)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    sessions = [
        (keys, _session_m(linker.training.estimate_parameters_using_expectation_maximisation(block_on(*keys))))
        for keys in blocks
    ]
    trained = m_from_unconditioned_blocks(linker.misc.save_model_to_json(), sessions)
    trained["probability_two_random_records_match"] = measured_prior(records, trained) or prior
    # Names and birth date always; every comparison when asked (see PERSONAL_COMPARISONS for why not by default).
    without_true_matches(trained, len(records), u_max_pairs, None if u_without_true_matches else PERSONAL_COMPARISONS)
    check_trained(trained, present, len(records))
    return fill_untrained(trained, u_max_pairs)


def _session_m(session: Any) -> SessionM:
    """The m one EM session estimated for each comparison it left free (None for a level its block never held), as
    Splink records them for its median: an estimate of 0 is an estimate (the session's `as_dict` drops it)."""
    estimated: dict[str, list[float | None]] = {}
    for comparison in session.core_model_settings.comparisons:
        estimated[comparison.output_column_name] = [
            float(level._m_probability) if isinstance(level._m_probability, int | float) else None
            for level in comparison._comparison_levels_excluding_null
        ]
    return estimated


def apply_labels(settings: dict[str, Any], level_counts: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Update m with reviewers' accepted pairs: per comparison, the count of accepted pairs at each level (null level
    excluded, "differs" last) is added to the trained m as a Dirichlet prior worth LABEL_PRIOR_PAIRS pairs.

    Splink's `estimate_m_from_pairwise_labels` replaces m outright; with the tens of labels a review queue makes,
    every level no accepted pair landed on would get m = 0, an infinite penalty. Blending keeps what EM learned.
    """
    updated: dict[str, Any] = orjson.loads(orjson.dumps(settings))
    for comparison, counts in zip(updated["comparisons"], level_counts, strict=True):
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        total = sum(counts)
        if total == 0:
            continue
        for level, count in zip(levels, counts, strict=True):
            prior = float(level.get("m_probability") or 0.0)
            level["m_probability"] = (count + LABEL_PRIOR_PAIRS * prior) / (total + LABEL_PRIOR_PAIRS)
    return updated


def predict_pairs(
    records: Any, settings: Mapping[str, Any], db_api: DatabaseAPISubClass, threshold: float
) -> pd.DataFrame:
    """Every blocked pair scoring at least `threshold`: unique_id_l, unique_id_r, match_probability, match_weight."""
    ported = for_dialect(settings, db_api.sql_dialect.sql_dialect_str)
    linker = Linker(records, ported, db_api=db_api, set_up_basic_logging=False)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    frame: pd.DataFrame = predictions.as_pandas_dataframe()  # type: ignore[no-untyped-call]  # Splink's is untyped
    columns: pd.DataFrame = frame[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]]
    return columns


def for_dialect(settings: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    """The trained parameters on comparisons written for a backend's SQL dialect.

    A settings file holds its levels' SQL in the dialect it was trained on (DuckDB's `list_intersect` means nothing
    to Spark), so a model moves to another backend as its parameters: the comparisons are rebuilt for the target
    dialect from comparisons.py and each level takes the trained m and u of the level in the same place.
    """
    fresh: dict[str, Any] = settings_creator().get_settings(dialect).as_dict()  # type: ignore[no-untyped-call]  # Splink is untyped
    fresh["probability_two_random_records_match"] = settings["probability_two_random_records_match"]
    for target, trained in zip(fresh["comparisons"], settings["comparisons"], strict=True):
        if target["output_column_name"] != trained["output_column_name"] or len(target["comparison_levels"]) != len(
            trained["comparison_levels"]
        ):
            raise ValueError(
                f"the model's {trained['output_column_name']} comparison is not this version's: "
                "retrain it (seamline match train)"
            )
        for level, learned in zip(target["comparison_levels"], trained["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in learned:
                    level[key] = learned[key]
    return fresh


def save_model(directory: Path, model: TrainedModel) -> Path:
    """Write the model as the next versioned file; never overwrites an older version."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{FILE_PREFIX}{model.version:04d}.json"
    with path.open("xb") as out:
        out.write(model.as_json())
    return path


def model_versions(directory: Path) -> list[int]:
    if not directory.is_dir():
        return []
    versions = []
    for path in directory.glob(f"{FILE_PREFIX}*.json"):
        digits = path.stem.removeprefix(FILE_PREFIX)
        if digits.isdigit():
            versions.append(int(digits))
    return sorted(versions)


def load_model(directory: Path, version: int | None = None) -> TrainedModel | None:
    """A model by version, or the newest; None when none was trained."""
    versions = model_versions(directory)
    if not versions:
        return None
    chosen = versions[-1] if version is None else version
    path = directory / f"{FILE_PREFIX}{chosen:04d}.json"
    if not path.is_file():
        return None
    return TrainedModel.from_json(path.read_bytes())
