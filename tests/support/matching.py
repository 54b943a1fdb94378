"""A matching model trained once per test process on synthetic silo records (training takes seconds).

A plugin of the root conftest, so every test package (matching, console, e2e) shares the one fixture. The matcher
(pandas, DuckDB, Splink) is imported when a test first asks for the model, not when pytest starts."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pytest

from seamline.core.clock import utcnow
from seamline.matching.prepare import prepare
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import generate_silo_records

if TYPE_CHECKING:
    from seamline.matching.model import TrainedModel


@pytest.fixture(scope="session")
def trained_model() -> TrainedModel:
    model = importlib.import_module("seamline.matching.model")
    people = generate_people(1_500, seed=31)
    records = generate_silo_records(people, seed=32)
    prepared = [{"unique_id": f"{r.system}:{r.record_key}", **prepare(r.fields())} for r in records]
    settings = model.train_settings(model.records_frame(prepared), u_max_pairs=5e5)
    trained: TrainedModel = model.TrainedModel(settings, 1, utcnow(), len(prepared), 0)
    return trained
