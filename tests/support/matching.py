"""A matching model trained once per test session on synthetic silo records (training takes seconds).

A plugin of the root conftest, so every test package (matching, console, e2e) shares the one fixture."""

from __future__ import annotations

import pytest

from seamline.core.clock import utcnow
from seamline.matching.model import TrainedModel, records_frame, train_settings
from seamline.matching.prepare import prepare
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import generate_silo_records


@pytest.fixture(scope="session")
def trained_model() -> TrainedModel:
    people = generate_people(1_500, seed=31)
    records = generate_silo_records(people, seed=32)
    prepared = [{"unique_id": f"{r.system}:{r.record_key}", **prepare(r.fields())} for r in records]
    settings = train_settings(records_frame(prepared), u_max_pairs=5e5)
    return TrainedModel(settings, 1, utcnow(), len(prepared), 0)
