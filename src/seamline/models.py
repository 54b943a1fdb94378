"""Every domain's tables, imported in one place so that metadata (and Alembic) sees them all."""

from __future__ import annotations


def import_all_models() -> None:
    """Import each domain's models module for its side effect of registering tables."""
    import seamline.access.models
    import seamline.audit.models
    import seamline.cases.models
    import seamline.communications.models
    import seamline.consent.models
    import seamline.core.jobs
    import seamline.decisions.models
    import seamline.destinations.models
    import seamline.errors.models
    import seamline.feedback.models
    import seamline.identity.models
    import seamline.ingestion.models
    import seamline.journeys.models
    import seamline.matching.models
    import seamline.outbox.models
    import seamline.privacy.models
    import seamline.profiles.models
    import seamline.reports.models
    import seamline.sources.models
    import seamline.tasks.models
    import seamline.triggers.models
    import seamline.users.models  # noqa: F401  # imported for the tables it registers
