"""The Spark backend for batch prediction: the same trained model (Splink settings) runs as Spark SQL, for imports
that outgrow one machine. Local mode (`local[N]`) runs it in-process, which is how CI tests it.

Needs the `spark` extra (pyspark 3.5: Splink ships its string-similarity UDFs for Spark 3's Scala 2.12) and Java 17.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import SparkSession
from splink import SparkAPI
from splink.backends.spark import similarity_jar_location

from seamline.matching.prepare import COLUMNS

_SCHEMA = ", ".join(
    ["unique_id string", *(f"{c} array<string>" if c == "first_name_forms" else f"{c} string" for c in COLUMNS)]
)


def spark_session(master: str = "local[2]", *, shuffle_partitions: int = 2) -> SparkSession:
    """A Spark session with Splink's similarity UDFs (Jaro-Winkler, Damerau-Levenshtein) on its class path."""
    return (
        SparkSession.builder.master(master)
        .appName("seamline-matching")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def spark_backend(master: str = "local[2]") -> tuple[SparkAPI, Any]:
    """(Splink's Spark API, a function turning prepared records into a Spark DataFrame) for `run_batch`."""
    spark = spark_session(master)
    spark.sparkContext.setLogLevel("ERROR")

    def as_spark(frame: pd.DataFrame) -> Any:
        # Row by row, not from pandas: pandas stores a missing text as NaN, which Spark would read as the string
        # "NaN" (a value, where DuckDB sees NULL). Prepared values are text, lists of text, or missing.
        rows = [
            tuple(v if isinstance(v, str | list) else None for v in row)
            for row in frame.itertuples(index=False, name=None)
        ]
        return spark.createDataFrame(rows, schema=_SCHEMA)

    # Splink's SparkAPI is untyped; persisting (not checkpointing to disk) suits local mode and small clusters.
    api = SparkAPI(  # type: ignore[no-untyped-call]  # untyped, as said above
        spark_session=spark, break_lineage_method="persist", num_partitions_on_repartition=2
    )
    return api, as_spark
