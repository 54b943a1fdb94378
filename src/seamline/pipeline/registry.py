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
from seamline.decisions.consumer import DecisionsConsumer
from seamline.decisions.service import Setup
from seamline.destinations.consumer import DestinationsConsumer
from seamline.feedback.config import FeedbackConfig
from seamline.feedback.consumer import FeedbackConsumer
from seamline.feedback.service import FeedbackSetup
from seamline.identity.rules import IdentityConfig
from seamline.identity.service import IdentityContext
from seamline.journeys.consumer import JourneysConsumer
from seamline.profiles.consumer import FactsConsumer
from seamline.profiles.vocabulary import Vocabulary, VocabularyConfig
from seamline.triggers.consumer import TriggersConsumer
from seamline.triggers.service import TriggerEngine


def _registered(
    consent: ConsentConfig,
    vocabulary: Vocabulary,
    decisions: Setup,
    triggers: TriggersConsumer,
    feedback: FeedbackSetup,
) -> tuple[Consumer, ...]:
    # Order matters only where one consumer reads what another wrote. Consent first: a choice is recorded on the
    # profile the event was made on, before the merges move it. Journeys before profiles' facts: a field a journey
    # collects counts as redundant when the golden record held it before this batch, not because the same event just
    # recorded it. Decisions after communications: a click teaches the action its communication's campaign names,
    # read from the log the communications consumer has just written. Feedback before triggers (a tracked answer's
    # low score makes its task in the same batch). Triggers last: their rules read what the
    # batch changed.
    return (
        ConsentConsumer(consent),
        JourneysConsumer(),
        FactsConsumer(vocabulary),
        CasesConsumer(),
        CommunicationsConsumer(),
        DestinationsConsumer(consent, lambda traits: vocabulary.canonicalize(traits).values),
        DecisionsConsumer(decisions),
        FeedbackConsumer(feedback),
        triggers,
    )


class Pipeline(IdentityContext):
    """The identity context plus the registered consumers: built once per process from the configuration."""

    def __init__(
        self,
        config: IdentityConfig,
        consent: ConsentConfig | None = None,
        traits: VocabularyConfig | None = None,
        triggers: TriggerEngine | None = None,
        decisions: Setup | None = None,
        feedback: FeedbackSetup | None = None,
    ) -> None:
        # A configured alias of `phone` (`[traits]`) is a phone identifier too.
        phones = [alias for alias, target in (traits.aliases if traits else {}).items() if target == "phone"]
        super().__init__(config, phone_traits=phones)
        self.consent = consent or ConsentConfig()
        self.vocabulary = Vocabulary(traits)  # the canonical customer model the facts are recorded in
        self.decisions = decisions or Setup.default(self.consent)
        self.triggers = TriggersConsumer(triggers)  # rules, if any; the worker also runs its waiting steps
        # The surveys tracked answers are checked against: the worker is handed the configured ones; any other
        # pipeline (corrections, unmerges) the built-in ones, and still moves feedback with merges.
        self.feedback = feedback or FeedbackSetup.of(FeedbackConfig())
        self.consumers = _registered(self.consent, self.vocabulary, self.decisions, self.triggers, self.feedback)
