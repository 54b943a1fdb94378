"""Settings: the only place that reads the environment or a config file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from seamline.assessment.config import AssessmentConfig
from seamline.cases.config import CasesConfig
from seamline.communications.config import EmailConfig, ProviderConfig
from seamline.config_parts import (
    CONFIG_FILE_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_SYNCHRONOUS,
    ENV_PREFIX,
    DatabaseSettings,
    Synchronous,
    default_database_url,
)
from seamline.consent.config import ConsentConfig
from seamline.decisions.config import DecisionsConfig
from seamline.errors.config import ErrorsConfig
from seamline.feedback.config import FeedbackConfig
from seamline.identity.rules import IdentityConfig
from seamline.journeys.config import JourneysConfig
from seamline.matching.config import MatchingConfig
from seamline.outbox.config import OutboxConfig
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.profiles.vocabulary import Vocabulary, VocabularyConfig
from seamline.reports.config import ReportsConfig
from seamline.tasks.config import TasksConfig
from seamline.triggers.config import TriggersConfig
from seamline.users.config import ConsoleConfig


class Settings(BaseSettings):
    """Everything an operator can set: `SEAMLINE_*` variables, or a TOML file named by `SEAMLINE_CONFIG`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Folder for the embedded database.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means SQLite at DATA_DIR/seamline.db. PostgreSQL: postgresql+psycopg://…",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = Field(
        default="",
        description=(
            "The address browsers and SDKs reach Seamline at, e.g. https://cdp.example.com (behind a proxy, its "
            "public name; a path prefix is kept). The analytics.js settings answer names it as the API host, never "
            "a request's Host header, which the client chooses. Empty: http://HOST:PORT."
        ),
    )

    sqlite_synchronous: Synchronous = Field(
        default=DEFAULT_SYNCHRONOUS,
        description="FULL makes every acknowledged event survive power loss, not just a process crash.",
    )
    db_pool_size: int = Field(default=8, ge=1)
    read_audit_fsync: bool = Field(
        default=True,
        description=(
            "Flush each read's audit entry to disk before the answer leaves. Either way the entry is committed "
            "before the answer (a read whose entry cannot be written is refused, and a crash of Seamline loses "
            "none); false lets the commit reach the disk with the next flush, saving CPU per group, at the risk "
            "of losing the last moments of read entries to an OS crash or power loss. Changes are audited in "
            "their own transaction and always flushed."
        ),
    )

    read_audit_gather_ms: float = Field(
        default=3.0,
        ge=0,
        le=100,
        description=(
            "The longest the audit writer holds a commit open for the read entries expected to follow its first "
            "one, so they share its commit (and its flush): it waits while another entry is due at least half a "
            "gap before this many milliseconds have passed (at 3: from 500 reads/s), and commits as soon as the "
            "expected entries came; a lone read is committed at once. 0: every entry commits as soon as the "
            "writer is free."
        ),
    )

    max_event_bytes: int = Field(default=32 * 1024, ge=1)
    max_batch_bytes: int = Field(default=500 * 1024, ge=1)
    max_batch_events: int = Field(default=2500, ge=1)
    max_message_id_length: int = Field(default=100, ge=1)

    rate_limit_per_second: float = Field(
        default=0.0, ge=0, description="Requests per second per source and API process; 0 turns it off."
    )
    rate_limit_burst: int = Field(default=0, ge=0, description="Bucket size; 0 means twice the rate.")

    inbox_group_max_events: int = Field(
        default=20_000, ge=1, description="Most events one group commit of the inbox writer takes."
    )
    worker_batch_size: int | None = Field(
        default=None,
        ge=1,
        description="Most events one worker transaction takes; by default 5000 on SQLite, 1000 on PostgreSQL.",
    )
    # 25 ms: the worker reads and resolves a batch before it takes the lock, so a transaction that holds it this
    # long writes about as many events as one of 50 ms did when the lock was held from the claim (issue 11).
    worker_batch_seconds: float = Field(
        default=0.025,
        ge=0,
        description=(
            "On SQLite, a running worker sizes its batches (up to worker_batch_size) so that each transaction holds "
            "the write lock about this long: the API's writes wait for it. 0: always full batches."
        ),
    )
    worker_partitions_per_claim: int = Field(default=16, ge=1)
    worker_idle_seconds: float = Field(default=0.2, gt=0)
    serve_worker: Literal["process", "thread"] = Field(
        default="process",
        description=(
            "Where `seamline serve` runs its worker (unless --no-worker): a child process it supervises, so the "
            "API and identity resolution each have a core and a GIL, or a thread of the API process."
        ),
    )

    api_key_cache_seconds: float = Field(
        default=1.0, ge=0, description="How long an API process trusts a checked server key (revocation delay)."
    )
    metrics_token: str = Field(
        default="",
        description="Bearer token for /metrics; when empty, /metrics answers loopback clients only.",
    )
    secret_key: str = Field(
        default="",
        description=(
            "Signs customer links (the preference page). Empty: one is generated on first use and kept in "
            "DATA_DIR/secret_key; set it when several servers must accept each other's links. Changing it "
            "invalidates every link issued before."
        ),
    )
    log_level: str = "info"

    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    consent: ConsentConfig = Field(default_factory=ConsentConfig)
    survivorship: SurvivorshipConfig = Field(default_factory=SurvivorshipConfig)
    traits: VocabularyConfig = Field(default_factory=VocabularyConfig)
    cases: CasesConfig = Field(default_factory=CasesConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)
    journeys: JourneysConfig = Field(default_factory=JourneysConfig)
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    triggers: TriggersConfig = Field(default_factory=TriggersConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    errors: ErrorsConfig = Field(default_factory=ErrorsConfig)
    assessment: AssessmentConfig = Field(default_factory=AssessmentConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    sms: ProviderConfig = Field(default_factory=ProviderConfig, description="SMS: twilio or webhook.")
    push: ProviderConfig = Field(default_factory=ProviderConfig, description="Push: fcm or webhook.")

    @model_validator(mode="after")
    def _mobile_providers(self) -> Settings:
        if not self.sms.is_shape("twilio", "webhook"):
            raise ValueError(f"sms.provider must be twilio, webhook or none, not {self.sms.provider!r}")
        if not self.push.is_shape("fcm", "webhook"):
            raise ValueError(f"push.provider must be fcm, webhook or none, not {self.push.provider!r}")
        return self

    decisions: DecisionsConfig = Field(default_factory=DecisionsConfig)

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = default_database_url(self.data_dir)
        return self

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"public_url must be an http or https address such as https://cdp.example.com: {value!r}")
        if parts.username or parts.password:
            raise ValueError("public_url must not hold a user name or password")
        return value.rstrip("/")

    @property
    def public_base_url(self) -> str:
        """Where clients reach this server: `public_url`, else the address `serve` listens on."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @model_validator(mode="after")
    def _canonical_survivorship(self) -> Settings:
        # A rule named by a source's name (`date_of_birth`) applies to the canonical trait it is recorded as.
        vocabulary = Vocabulary(self.traits)
        self.survivorship.traits = {vocabulary.canonical_name(k): v for k, v in self.survivorship.traits.items()}
        return self

    @property
    def database(self) -> DatabaseSettings:
        """The database settings alone, as `config_parts` reads them without the rest."""
        return DatabaseSettings(self.data_dir, self.database_url, self.sqlite_synchronous)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)
