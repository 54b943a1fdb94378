"""One demo bank played once per database, shared by the tests that only read it.

Playing the demo (a month of traffic through the tracking API, the worker, training and running the matcher, the
conversations, surveys and errors) took 45-60 s per database, and the silo test played half of it again (15 s).
They read the same workspace now: the fixture is package-scoped, so a process plays the demo once per database.
Under xdist (`-n 2`, which hands out tests in runs of neighbours) the tests of one database are neighbours in the
collection and go to one worker together; were they split, each worker would play the demo once. (An xdist group
would pin them, but `--dist loadgroup` groups nothing with pytest 9.2: xdist 3.8 renames `item._nodeid`, which
pytest no longer reads.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import create_db_engine
from seamline.demo.workspace import DemoWorkspace, create_demo_workspace, play
from tests.conftest import DATABASES, migrated_postgres_database
from tests.support.server import live_server

# Splink samples random pairs to estimate u; the default 2,000,000 is more pairs than the demo bank's ~2,500 silo
# records have, and took a quarter of the play (~15 s of CPU). 200,000 trains the same model shape, and the
# assertions are about what the play did, not the model's figures.
U_MAX_PAIRS = 2e5
PLAY_TIMEOUT_SECONDS = 900


@dataclass(frozen=True, slots=True)
class PlayedDemo:
    workspace: DemoWorkspace
    summary: str
    engine: Engine
    settings: Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test that reads a played demo plays it in its setup, which may take longer than one test's usual
    limit on a busy machine."""
    for item in items:
        if "played_demo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(PLAY_TIMEOUT_SECONDS))


@pytest.fixture(scope="package", params=DATABASES)
def played_demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[PlayedDemo]:
    data_dir = tmp_path_factory.mktemp(f"demo-{request.param}")
    if request.param == "sqlite":
        path = data_dir / "seamline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:  # a database of its own, so that the worker's other tests emptying theirs leave it alone
        url = migrated_postgres_database(request.getfixturevalue("postgres_server_url"), f"seamline_demo_{worker_id}")
    settings = Settings(database_url=url, data_dir=data_dir)
    settings = settings.model_copy(
        update={"matching": settings.matching.model_copy(update={"u_max_pairs": U_MAX_PAIRS})}
    )
    engine = create_db_engine(url)
    workspace = create_demo_workspace(engine, settings)
    assert workspace is not None
    in_process = settings.model_copy(update={"serve_worker": "thread"})  # the child process has tests of its own
    with live_server(create_app(in_process, embedded_worker=True)) as base_url:
        summary = play(workspace, base_url, engine, settings)
    yield PlayedDemo(workspace, summary, engine, settings)
    engine.dispose()
