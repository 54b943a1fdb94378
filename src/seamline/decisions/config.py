"""Decisions configuration (`[decisions]`, or `SEAMLINE_DECISIONS__*`): the catalog folder, the suppression window,
the fatigue budget, quiet hours and the levers the business turns."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

BUILTIN_DIR = Path(__file__).parent / "actions"


class Cap(BaseModel):
    """At most `limit` counted messages (marketing and service, every channel and sender) in `window_days`."""

    window_days: float = Field(gt=0)
    limit: int = Field(ge=0)


class DecisionsConfig(BaseModel):
    """The decision point and the contact policy shared by the decision API, the outbox and audience exports."""

    catalog_dir: Path = Field(default=BUILTIN_DIR, description="Folder of action files (NAME.yaml).")
    purchase_window_days: float = Field(
        default=90, ge=0, description="A product bought this recently is not marketed to the buyer."
    )
    purchase_events: list[str] = Field(
        default_factory=lambda: ["Order Completed", "Product Purchased"],
        description="Track events that say a person bought a product (its `product_type`, `product` or `category`).",
    )
    products: dict[str, list[str]] = Field(
        default_factory=lambda: {"credit_card": ["card", "credit_card"]},
        description="A product's other names in holdings and purchases (holding types, product codes).",
    )
    caps: list[Cap] = Field(
        default_factory=list,
        description=(
            "The fatigue budget: marketing yields when any cap is spent; service counts against it. None by default "
            "(an operator sets the budget, e.g. 3 a week and 1 a day)."
        ),
    )
    service_caps: list[Cap] = Field(
        default_factory=list,
        description="Caps that stop service messages too (counting service messages only); none by default.",
    )
    quiet_start: str | None = Field(default=None, description="Local time quiet hours begin (HH:MM); none: off.")
    quiet_end: str | None = Field(default=None, description="Local time quiet hours end: held messages go then.")
    default_timezone: str = Field(default="Europe/London", description="When neither traits nor phone say.")
    timezone_trait: str = "timezone"
    phone_trait: str = "phone"
    segment_trait: str = Field(default="segment", description="The trait whose value picks the propensity segment.")
    levers: dict[str, float] = Field(
        default_factory=dict, description="Business levers: a multiplier per action name or priority class."
    )
    context_weights: dict[str, float] = Field(
        default_factory=dict, description="A multiplier per channel or placement (e.g. `web:home_banner`)."
    )
    max_actions: int = Field(default=3, ge=1, le=50, description="How many actions a decision returns by default.")

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is None:
            return None
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"{value!r} is not a time of day as HH:MM")
        return value

    def names_of(self, product: str) -> frozenset[str]:
        """Every name a product goes by in holdings and purchases."""
        return frozenset({product, *self.products.get(product, [])})
