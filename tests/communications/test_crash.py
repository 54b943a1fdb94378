"""kill -9 of a dispatcher in the middle of a run: nothing is lost, and no second distinct message is sent (a
message sent but not yet marked goes again with the same Message-ID)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from tests.communications.conftest import deliver, queue
from tests.support.people import person
from tests.support.smtp import Mailbox

MESSAGES = 30


def test_a_dispatcher_killed_mid_run_loses_nothing_and_sends_no_second_distinct_message(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    ada = person(client, engine, mail_settings)
    notices = [{"first_name": "Ada", "change": str(n)} for n in range(MESSAGES)]
    queued = {queue(engine, mail_settings, ada, "account_notice", data).communication_id for data in notices}
    mailbox.delay_seconds = 0.05  # a slow server: the kill lands while a claimed batch is being sent
    seamline = shutil.which("seamline") or str(Path(sys.executable).parent / "seamline")
    env = {
        **os.environ,
        "SEAMLINE_DATABASE_URL": mail_settings.database_url,
        "SEAMLINE_DATA_DIR": str(mail_settings.data_dir),
        "SEAMLINE_EMAIL__SMTP_PORT": str(port),
        "SEAMLINE_OUTBOX__LEASE_SECONDS": "1",
        "SEAMLINE_OUTBOX__BATCH_SIZE": "10",
        "SEAMLINE_OUTBOX__SEND_THREADS": "1",
    }
    dispatcher = subprocess.Popen(
        [seamline, "dispatcher"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while len(mailbox.messages) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        dispatcher.send_signal(signal.SIGKILL)  # no shutdown, no settling: a crash
        dispatcher.wait(10)
    finally:
        if dispatcher.poll() is None:
            dispatcher.kill()
            dispatcher.wait(10)
    assert 5 <= len(mailbox.messages) < MESSAGES  # it died in the middle

    time.sleep(1.2)  # the dead dispatcher's lease lapses
    mailbox.delay_seconds = 0.0
    deliver(engine, mail_settings)

    ids = Counter(str(m["Message-ID"]).strip("<>").split("@")[0] for m in mailbox.messages)
    assert set(ids) == queued  # every message arrived, and nothing else did
    assert all(count <= 2 for count in ids.values())  # a repeat carries the same Message-ID: no distinct second
    with engine.connect() as conn:
        assert {r[0] for r in conn.execute(text("SELECT status FROM outbox_messages"))} == {"sent"}
        accepted = conn.execute(text("SELECT count(*) FROM communications WHERE status = 'accepted'")).scalar()
    assert accepted == MESSAGES
