"""The preference form as questions, and a submitted form as the choices that changed. Pure.

A product either follows the customer-wide answer or has its own. The ledger cannot delete a product's exception:
under the consent policy the newest covering choice wins, so a newer customer-wide choice overrides it. That gives
the rule for saving: work out what each product would decide once this form's customer-wide changes are
recorded, and record a product's own choice only where that differs from what the person asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seamline.consent.config import ConsentConfig
from seamline.consent.policy import CONSENT, DELIVERY, DENIED, ELECTRONIC, GRANTED, PAPER, Preferences
from seamline.core.errors import FieldError, InvalidInput

FOLLOW = "follow"
ALWAYS_ON = ("service",)  # service messages need no consent and cannot be turned off here

PURPOSE_TITLES = {
    "marketing": "Offers and news",
    "analytics": "Measuring how our services are used",
    "personalization": "Personalised content",
    "profiling": "Profiling to tailor offers",
}
# Each purpose asked as a person would ask it, with what saying yes means; its channels are the answers under it.
PURPOSE_QUESTIONS = {
    "marketing": ("May we send you offers and news?", "About our products and services. You can say no at any time."),
    "analytics": (
        "May we count how you use our website and app?",
        "We use the counts to find what is hard to use and fix it.",
    ),
    "personalization": (
        "May we choose what we show you from what you do with us?",
        "For example, putting the help you looked for last time first.",
    ),
    "profiling": (
        "May we use what we know about you to pick offers for you?",
        "Offers chosen from your products and how you use them, rather than the same offers for everyone.",
    ),
}
CHANNEL_TITLES = {
    "email": "Email",
    "sms": "Text message (SMS)",
    "push": "Push notifications",
    "phone": "Phone calls",
    "postal": "Post",
    "in_app": "Messages in the app",
    "web": "On our website",
}
DOCUMENT_TITLES = {"statements": "Statements", "notices": "Notices", "tax_forms": "Tax forms"}
VALUE_TITLES = {GRANTED: "Yes", DENIED: "No", PAPER: "Paper, by post", ELECTRONIC: "Electronic, online"}


def _title(name: str, titles: Mapping[str, str]) -> str:
    return titles.get(name, name.replace("_", " ").capitalize())


def mask(external_id: str) -> str:
    """An external id as the page shows it: only its last four characters."""
    return f"•••• {external_id[-4:]}"


@dataclass(frozen=True, slots=True)
class Product:
    """A holding as the page names it; `key` stands for the external id in field names."""

    key: str
    external_id: str
    type: str
    masked: str

    @property
    def title(self) -> str:
        return f"{self.type.replace('_', ' ').capitalize()} {self.masked}"


def products_of(holdings: Sequence[tuple[str, str]]) -> list[Product]:
    """(type, external id) pairs as products, one per external id (choices are keyed by it), in a stable order."""
    seen: dict[str, Product] = {}
    for type_, external_id in sorted(holdings, key=lambda h: (h[0], h[1])):
        if external_id not in seen:
            key = hashlib.sha256(external_id.encode("utf-8")).hexdigest()[:16]
            seen[external_id] = Product(key, external_id, type_, mask(external_id))
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class Question:
    """One radio group: its field name, the text shown, the options and the current answer."""

    field: str
    legend: str
    kind: str
    options: tuple[tuple[str, str], ...]  # (value, label)
    current: str  # a value, or FOLLOW for a product that decides as the customer-wide question does
    value: str  # what the policy decides now
    purpose: str | None = None
    channel: str | None = None
    document_type: str | None = None
    product: Product | None = None
    follows: str | None = None  # the customer-wide question's field, for a product's question
    short: str = ""  # the answer's name inside its group (the channel: "Email"); the legend is the whole question

    def label(self, option: str) -> str:
        return dict(self.options).get(option, option)


@dataclass(frozen=True, slots=True)
class Section:
    """A group of questions under one heading: customer-wide ones, then each product's."""

    key: str
    title: str
    overall: tuple[Question, ...]
    per_product: tuple[tuple[Product, tuple[Question, ...]], ...]
    question: str = ""  # the section asked in plain words
    hint: str = ""  # what saying yes means


@dataclass(frozen=True, slots=True)
class Form:
    """Everything the page asks: consent per purpose and channel, then delivery per document type."""

    always_on: tuple[str, ...]
    consent: tuple[Section, ...]
    delivery: tuple[Section, ...]

    def questions(self) -> list[Question]:
        out: list[Question] = []
        for section in (*self.consent, *self.delivery):
            out.extend(section.overall)
            for _product, questions in section.per_product:
                out.extend(questions)
        return out


def _product_question(base: Question, product: Product, value: str) -> Question:
    follow = (FOLLOW, f"Same as for all my products (now: {base.label(base.value).lower()})")
    return Question(
        field=f"{base.field}.{product.key}",
        legend=base.legend,
        kind=base.kind,
        options=(follow, *base.options),
        current=FOLLOW if value == base.value else value,
        value=value,
        purpose=base.purpose,
        channel=base.channel,
        document_type=base.document_type,
        product=product,
        follows=base.field,
        short=base.short,
    )


def build_form(preferences: Preferences, products: Sequence[Product], config: ConsentConfig) -> Form:
    """The questions of the page from a person's effective preferences (decided for each of their products)."""
    consent: list[Section] = []
    for purpose in config.purposes:
        if purpose in ALWAYS_ON:
            continue
        overall: list[Question] = []
        for channel in config.channels:
            value = GRANTED if preferences.consent[(purpose, channel, None)][None].allowed else DENIED
            overall.append(
                Question(
                    field=f"c.{purpose}.{channel}",
                    legend=f"{_title(purpose, PURPOSE_TITLES)} by {_title(channel, CHANNEL_TITLES).lower()}",
                    kind=CONSENT,
                    options=((GRANTED, VALUE_TITLES[GRANTED]), (DENIED, VALUE_TITLES[DENIED])),
                    current=value,
                    value=value,
                    purpose=purpose,
                    channel=channel,
                    short=_title(channel, CHANNEL_TITLES),
                )
            )
        per_product = tuple(
            (
                product,
                tuple(
                    _product_question(
                        q,
                        product,
                        GRANTED
                        if preferences.consent[(purpose, q.channel or "", None)][product.external_id].allowed
                        else DENIED,
                    )
                    for q in overall
                ),
            )
            for product in products
        )
        title = _title(purpose, PURPOSE_TITLES)
        question, hint = PURPOSE_QUESTIONS.get(purpose, (f"{title}: may we contact you?", ""))
        consent.append(Section(purpose, title, tuple(overall), per_product, question, hint))
    delivery: list[Section] = []
    for document_type in config.document_types:
        delivery_decisions = preferences.delivery[document_type]
        title = _title(document_type, DOCUMENT_TITLES)
        base = Question(
            field=f"d.{document_type}",
            legend=f"How you receive {title.lower()}",
            kind=DELIVERY,
            options=((ELECTRONIC, VALUE_TITLES[ELECTRONIC]), (PAPER, VALUE_TITLES[PAPER])),
            current=delivery_decisions[None].value,
            value=delivery_decisions[None].value,
            document_type=document_type,
        )
        per_product = tuple(
            (product, (_product_question(base, product, delivery_decisions[product.external_id].value),))
            for product in products
        )
        delivery.append(Section(document_type, title, (base,), per_product))
    return Form(tuple(p for p in config.purposes if p in ALWAYS_ON), tuple(consent), tuple(delivery))


@dataclass(frozen=True, slots=True)
class Change:
    """A choice to record: what it is about, for which product (None: customer-wide), the value and the text shown."""

    kind: str
    purpose: str | None
    channel: str | None
    document_type: str | None
    product: str | None
    value: str
    text_shown: str


def _shown(question: Question, answer: str) -> str:
    where = f" for {question.product.title}" if question.product is not None else ""
    return f"{question.legend}{where}: {question.label(answer)}"


def _change(question: Question, value: str, text_shown: str) -> Change:
    product = question.product.external_id if question.product is not None else None
    return Change(question.kind, question.purpose, question.channel, question.document_type, product, value, text_shown)


def changes(form: Form, submitted: Mapping[str, str]) -> list[Change]:
    """The choices a submitted form changes: customer-wide ones first, then the products' own (which must be newer)."""
    questions = form.questions()
    errors = [
        FieldError(q.field, "invalid", f"{q.legend}: {submitted[q.field]!r} is not one of the options")
        for q in questions
        if q.field in submitted and submitted[q.field] not in dict(q.options)
    ]
    if errors:
        raise InvalidInput(errors, "the form is not valid")
    answer = {q.field: submitted.get(q.field, q.current) for q in questions}
    overall = [q for q in questions if q.product is None]
    changed = {q.field for q in overall if answer[q.field] != q.current}
    out = [_change(q, answer[q.field], _shown(q, answer[q.field])) for q in overall if q.field in changed]
    for q in questions:
        if q.follows is None:
            continue
        new_overall = answer[q.follows]
        after = new_overall if q.follows in changed else q.value
        wanted = new_overall if answer[q.field] == FOLLOW else answer[q.field]
        if wanted != after:
            out.append(_change(q, wanted, _shown(q, answer[q.field])))
    return out
