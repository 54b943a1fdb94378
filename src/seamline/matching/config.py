"""The matching section of the configuration (`[matching]` in the TOML file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator

# Matching field -> trait names that may hold it on a profile, first found wins (Segment's spec names included).
DEFAULT_TRAITS: dict[str, list[str]] = {
    # The canonical model's names first (profiles.vocabulary: every source's names are recorded under them); the
    # rest read traits recorded before it.
    "first_name": ["first_name", "firstName", "given_name"],
    "last_name": ["last_name", "lastName", "family_name", "surname"],
    "date_of_birth": ["birthday", "date_of_birth", "dob"],
    "street": ["address.street", "street", "address_line1"],
    "city": ["address.city", "city"],
    "postcode": ["address.postal_code", "postcode", "postal_code", "zip", "address.postalCode"],
    "phone": ["phone", "telephone", "phone_number"],
    "email": ["email"],
    "national_id": ["national_id"],
}


class MatchingConfig(BaseModel):
    """Thresholds, where models live, which traits feed which field, and the real-time index's refresh."""

    # 0.95: on the synthetic silos it keeps pairwise precision at 0.999 while recall reaches 0.993-0.995; the
    # probability of a given pair falls as the table grows (the prior is about 1/records), so 0.995 loses recall
    # at a million records (F1 0.993 there against 0.996).
    merge_threshold: float = Field(
        default=0.95, gt=0, le=1, description="Match probability at or above which a pair merges automatically."
    )
    review_threshold: float = Field(
        default=0.6, gt=0, le=1, description="Match probability at or above which a pair goes to human review."
    )
    model_dir: Path | None = Field(
        default=None, description="Folder of versioned model files; default DATA_DIR/models."
    )
    traits: dict[str, list[str]] = Field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_TRAITS.items()})
    source_name: str = Field(default="matching", description="The source accepted matches are written from.")
    u_max_pairs: float = Field(default=2e6, gt=0, description="Random pairs sampled to estimate u.")
    # Names and birth date always have it taken out (training.PERSONAL_COMPARISONS). Off by default for the rest: on
    # FEBRL it lifts F1 further (febrl1 0.9796 -> 0.9868), but on the synthetic bank namesakes at one address (a
    # father and a son) gain from the address as much as duplicates: precision 0.9996 -> 0.9989 (docs/matching.md).
    u_without_true_matches: bool = Field(
        default=False,
        description="Take the true matches' share (the prior times m) out of the u that random sampling measures for "
        "every comparison (names and birth date always have it taken out).",
    )
    duckdb_memory_limit: str = Field(
        default="2GB", description="Memory DuckDB may use for batch prediction (it spills beyond)."
    )
    # 128MB: training 10,000 records peaked at 1.2 GB with 1GB (DuckDB fills what it is given while sampling pairs
    # for u), 0.50 GB with 256MB and 0.37 GB with 128MB; m and u are the same to 1e-13 (the order of EM's sums).
    # It is a floor: a larger table gets 1 KB a record (model.training_memory; 128MB failed at a million records).
    # Prediction keeps its own, larger limit: its union of blocking joins ran out of 256MB at 100,000 records.
    training_memory_limit: str = Field(
        default="128MB",
        description="Memory DuckDB may use for training, at least (1 KB a record when more; it spills beyond).",
    )
    realtime_refresh_seconds: float = Field(
        default=2.0, ge=0, description="How stale the real-time index may be: a request refreshes it when older."
    )
    realtime_candidates: int = Field(default=10, ge=1, le=100, description="Most candidates a real-time match returns.")

    @model_validator(mode="after")
    def _bands(self) -> MatchingConfig:
        if self.review_threshold > self.merge_threshold:
            raise ValueError("review_threshold must not exceed merge_threshold")
        return self
