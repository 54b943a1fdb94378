"""Where consumers are registered: the one list, in the order they take each batch.

A new capability that reacts to events is a `consumer.py` in its domain (implementing
`seamline.core.pipeline.Consumer`) and one line in `_registered` below. Identity imports none of them.
"""

from __future__ import annotations

from seamline.cases.consumer import CasesConsumer
from seamline.communications.consumer import CommunicationsConsumer
from seamline.consent.config import ConsentConfig
from seamline.consent.consumer import ConsentConsumer
from seamline.core.pipeline import Consumer
from seamline.identity.rules import IdentityConfig
from seamline.identity.service import IdentityContext
from seamline.profiles.consumer import FactsConsumer


def _registered(consent: ConsentConfig) -> tuple[Consumer, ...]:
    # Order matters only where one consumer reads what another wrote; none does yet. Consent first: a choice is
    # recorded on the profile the event was made on, before the merges move it.
    return (
        ConsentConsumer(consent),
        FactsConsumer(),
        CasesConsumer(),
        CommunicationsConsumer(),
    )


class Pipeline(IdentityContext):
    """The identity context plus the registered consumers: built once per process from the configuration."""

    def __init__(self, config: IdentityConfig, consent: ConsentConfig | None = None) -> None:
        super().__init__(config)
        self.consent = consent or ConsentConfig()
        self.consumers = _registered(self.consent)
