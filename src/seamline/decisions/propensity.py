"""Propensity that learns: a Beta-Bernoulli estimate per action and segment, sampled (Thompson sampling, all actions
at once in decisions/plan.py and arbitration.py) so the ranking explores actions it knows little about and exploits
the ones that work. Pure."""

from __future__ import annotations

from dataclasses import dataclass

SHOWN, ACCEPTED, IGNORED, CONVERTED = "shown", "accepted", "ignored", "converted"
OUTCOMES = (SHOWN, ACCEPTED, IGNORED, CONVERTED)


@dataclass(frozen=True, slots=True)
class Tally:
    """What happened to an action in a segment."""

    shown: int = 0
    accepted: int = 0
    ignored: int = 0
    converted: int = 0

    def posterior(self, prior: tuple[float, float]) -> tuple[float, float]:
        """Beta(alpha, beta): a success is an acceptance; a failure a showing without one (an ignore counts as a
        showing when the showing itself was not reported)."""
        trials = max(self.shown, self.accepted + self.ignored)
        return prior[0] + self.accepted, prior[1] + max(0, trials - self.accepted)

    def mean(self, prior: tuple[float, float]) -> float:
        alpha, beta = self.posterior(prior)
        return alpha / (alpha + beta)
