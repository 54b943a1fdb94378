"""The demo's conversations: customers writing in by chat and email, and what the bank's agents did about it.

Customers' messages arrive the way a chat or email system sends them, through the cases API; what agents did
(replies, handoff summaries, an escalation) goes through the cases service as the console's pages call it.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine

from seamline.cases.config import CasesConfig
from seamline.cases.service import add_entry, update_handoff
from seamline.cases.thread import EntryInput
from seamline.cases.workflow import escalate, pick_up
from seamline.core.db import unit_of_work
from seamline.synthetic.people import Person

log = logging.getLogger("seamline.demo")
CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Conversation:
    """A customer's message and what the first agent did with it."""

    channel: str
    subject: str
    body: str
    priority: str = "normal"
    reply: str | None = None
    handoff: tuple[str, str, str] | None = None  # verified, customer said, tried
    escalation: str | None = None


CONVERSATIONS: tuple[Conversation, ...] = (
    Conversation(
        "chat",
        "Card declined",
        "Hi, my card was declined at the supermarket this morning. The app says I have money. What's going on?",
        priority="high",
        reply="Sorry about that. I can see the decline; let me check what the card system recorded.",
        handoff=(
            "Identity verified by date of birth and postcode.",
            "Card declined this morning at a supermarket; balance in the app looks fine; travels abroad next week.",
            "Checked the balance and the card status (active). Asked the customer to retry: declined again.",
        ),
        escalation="Card system shows a fraud block the agent cannot lift; needs a supervisor to release it.",
    ),
    Conversation(
        "email",
        "Paperless statements",
        "I chose paperless statements in the card app but my mortgage statement still came by post.",
        reply="Thank you for telling us. Your paperless choice applies to every product; I have checked it.",
        handoff=(
            "Email address on file matches the sender.",
            "Chose paperless in the card app; the mortgage statement still came on paper.",
            "Confirmed the customer-wide paperless choice on the preference grid.",
        ),
    ),
    Conversation(
        "email",
        "Address change",
        "We moved last month. I updated my address for checking, do I need to tell the mortgage team too?",
        priority="low",
    ),
    Conversation(
        "chat",
        "Mortgage overpayment",
        "Can I overpay my mortgage this year without a fee? I asked on the phone last week but nobody called back.",
        priority="high",
        handoff=(
            "Verified by the one-time code sent to the registered phone.",
            "Called last week about overpaying; was promised a call back that never came.",
            "",
        ),
    ),
)


def open_conversations(
    base_url: str, bridge_key: str, engine: Engine, config: CasesConfig, people: Sequence[Person], agent: str
) -> int:
    """Send each conversation's first message as its customer, then do what the agent did; returns cases opened.

    A customer writes from their first email address; one the bank has never seen is refused by the cases API
    (nobody to attach it to), so the conversation goes to the next customer instead.
    """
    writers = iter([p for p in people if p.emails and p.is_registered])
    opened = 0
    for conversation in CONVERSATIONS:
        case_id = None
        while case_id is None and (person := next(writers, None)) is not None:
            case_id = _inbound(base_url, bridge_key, person, conversation)
        if case_id is None:
            break
        opened += 1
        with unit_of_work(engine) as session:
            _agent_work(session, config, case_id, conversation, agent)
    return opened


def _inbound(base_url: str, key: str, person: Person, conversation: Conversation) -> int | None:
    body = {
        "customer": f"email:{person.emails[0]}",
        "channel": conversation.channel,
        "body": conversation.body,
        "author_name": f"{person.first_name} {person.last_name}",
        "subject": conversation.subject,
        "priority": conversation.priority,
    }
    request = urllib.request.Request(  # noqa: S310 (our own URL)
        f"{base_url}/v1/cases/inbound",
        data=orjson.dumps(body),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  # our own server, an http(s) URL
            routed: dict[str, Any] = orjson.loads(answer.read())
    except urllib.error.HTTPError as exc:
        log.debug("demo message from %s refused: %s %s", person.emails[0], exc.code, exc.read()[:300])
        return None
    return int(routed["case"]["id"])


def _agent_work(session: Any, config: CasesConfig, case_id: int, conversation: Conversation, agent: str) -> None:
    if conversation.reply is None and conversation.handoff is None:
        return  # still waiting in the queue for its first answer
    pick_up(session, config, case_id, actor=agent, surface=CONSOLE)
    if conversation.reply is not None:
        reply = EntryInput(conversation.channel, "outbound", conversation.reply, "agent", agent)
        add_entry(session, config, case_id, reply, actor=agent, surface=CONSOLE)
    if conversation.handoff is not None:
        verified, said, tried = conversation.handoff
        update_handoff(
            session, case_id, verified=verified, customer_said=said, tried=tried, actor=agent, surface=CONSOLE
        )
    if conversation.escalation is not None:
        escalate(session, config, case_id, reason=conversation.escalation, actor=agent, surface=CONSOLE)
