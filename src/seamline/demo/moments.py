"""The demo bank's trigger rules (installed into DATA_DIR/rules, where the worker looks by default) and a few
customers' moments that matter, sent as tracking events so the rules have something to act on."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from seamline.core.clock import isoformat_z
from seamline.synthetic.people import Person

RULES = Path(__file__).parent / "rules"


def install_rules(folder: Path) -> int:
    """Copy the demo's rule files into `folder` (kept if already there: an operator may have edited them)."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = 0
    for source in sorted(RULES.glob("*.yaml")):
        if not (folder / source.name).exists():
            shutil.copyfile(source, folder / source.name)
            copied += 1
    return copied


def moments_traffic(people: list[Person], now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """A stalled high-value mortgage application, three complaints, a bereavement notice and a failed payment of
    a vulnerable customer, each of a registered demo customer, from the channel it happens on."""
    known = [p for p in people if p.user_id][:4]
    if len(known) < 4:
        return []
    mortgage, unhappy, bereaved, vulnerable = known
    out: list[tuple[str, dict[str, Any]]] = []

    def track(source: str, person: Person, event: str, props: dict[str, Any], at: datetime) -> None:
        out.append((source, {"type": "track", "userId": person.user_id, "event": event, "properties": props,
                             "timestamp": isoformat_z(at), "messageId": f"demo-moment-{len(out)}"}))  # fmt: skip

    application = {"journey": "mortgage-application", "instance_id": "demo-mortgage-1", "amount": 320000}
    track("web", mortgage, "Journey Step Completed", {**application, "step": "property"}, now - timedelta(hours=5))
    track("web", mortgage, "Journey Stalled", {**application, "step": "income"}, now - timedelta(hours=2))
    for days, channel in ((20, "email"), (9, "phone"), (1, "chat")):
        track("call-center", unhappy, "Complaint Filed", {"channel": channel}, now - timedelta(days=days))
    track("call-center", bereaved, "Bereavement Notified", {"relationship": "spouse"}, now - timedelta(hours=1))
    flagged = isoformat_z(now - timedelta(days=3))
    out.append(("crm", {"type": "identify", "userId": vulnerable.user_id, "traits": {"vulnerable": True},
                        "timestamp": flagged, "messageId": "demo-moment-flag"}))  # fmt: skip
    track("core-banking", vulnerable, "Payment Failed", {"amount": 84.2}, now - timedelta(minutes=30))
    return out
