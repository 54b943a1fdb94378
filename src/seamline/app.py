"""create_app(settings): the HTTP application, its lifespan, routes and the one place errors become answers."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from seamline import __version__
from seamline.analytics.service import Analytics
from seamline.api.analytics import router as analytics_router
from seamline.api.assessment import router as assessment_router
from seamline.api.cases import router as cases_router
from seamline.api.communications import router as communications_router
from seamline.api.consent import router as consent_router
from seamline.api.corrections import router as corrections_router
from seamline.api.decisions import router as decisions_router
from seamline.api.deps import ProfilesContext
from seamline.api.destinations import router as destinations_router
from seamline.api.errors import router as errors_router
from seamline.api.feedback import router as feedback_router
from seamline.api.inbox import router as inbox_router
from seamline.api.journeys import JourneysApi, load_configured_definitions
from seamline.api.journeys import router as journeys_router
from seamline.api.links import build_router as links_router
from seamline.api.matching import MatchingApi
from seamline.api.matching import router as matching_router
from seamline.api.openapi import DESCRIPTION, document, errors
from seamline.api.preferences import build_router as preferences_router
from seamline.api.privacy import router as privacy_router
from seamline.api.profiles import router as profiles_router
from seamline.api.providers import build_router as providers_router
from seamline.api.reports import router as reports_router
from seamline.api.routing import RouteIndex
from seamline.api.tasks import router as tasks_router
from seamline.api.tracking import IngestionContext, RateLimited, rate_limit_headers
from seamline.api.tracking import router as tracking_router
from seamline.assessment.service import Assessment
from seamline.audit.service import AuditWriter
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.console.context import ConsoleContext
from seamline.console.errors import error_page, is_console
from seamline.console.router import mount_console
from seamline.core import collector
from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    SeamlineError,
    TooLarge,
    Unauthorized,
)
from seamline.core.responses import JSONResponse
from seamline.core.schema import is_up_to_date
from seamline.decisions.service import Setup as DecisionsSetup
from seamline.errors.policystore import PolicyStore
from seamline.ingestion.inbox import InboxWriter
from seamline.ingestion.ratelimit import RateLimiter
from seamline.ingestion.service import backlog, quarantine_size
from seamline.ingestion.wire import Limits
from seamline.journeys.service import collection_counts
from seamline.journeys.steptimes import step_times
from seamline.journeys.writer import SaveWriter
from seamline.matching.realtime import Matcher, MatchIndex, forget_profiles, warm_index
from seamline.matching.records import MatchingContext
from seamline.matching.service import current_model
from seamline.observability.metrics import Metrics
from seamline.outbox.service import counts as outbox_counts
from seamline.outbox.service import lag_seconds
from seamline.pipeline.registry import Pipeline
from seamline.preferences.service import signing_secret, unsubscribe_link
from seamline.privacy.forgetting import ErasureFollower
from seamline.reports.dashboards import Dashboards
from seamline.worker.dispatcher import build_dispatcher
from seamline.worker.runner import Worker
from seamline.worker.supervisor import WorkerHealth, WorkerSupervisor
from seamline.worker.triggers import feedback_setup, reports_audience

log = logging.getLogger(__name__)
SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"

_STATUS: dict[type[SeamlineError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    RateLimited: 429,
}


@dataclass
class Runtime:
    """What the lifespan owns: the engine, the inbox writer and, embedded, a worker (a child process or a thread)."""

    engine: Engine
    writer: InboxWriter
    worker: WorkerSupervisor | Worker | None

    def worker_health(self) -> WorkerHealth:
        if isinstance(self.worker, WorkerSupervisor):
            return self.worker.health()
        if self.worker is None:
            return WorkerHealth(mode="off", is_alive=False)
        return WorkerHealth(mode="thread", is_alive=self.worker.is_running, processed=self.worker.processed)


def _error_body(code: str, message: str, errors: list[FieldError] | None = None) -> dict[str, object]:
    # `code` and `message` also stand at the top level: SDKs such as rudder-sdk-python read them there, and
    # without them treat a 4xx as a network failure and retry it.
    return {
        "code": code,
        "message": message,
        "error": {"code": code, "message": message, "errors": [e.as_dict() for e in errors or []]},
    }


def _warm(engine: Engine, matcher: Matcher) -> None:
    try:
        warm_index(engine, matcher)
    except Exception:  # best effort: the first search refreshes the index itself
        log.warning("could not fill the real-time match index at start-up", exc_info=True)


def _install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SeamlineError)
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        if is_console(request):
            return error_page(request, exc, status=410 if isinstance(exc, Gone) else None)
        errors: list[FieldError] = list(getattr(exc, "errors", []))
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimited):
            headers = rate_limit_headers(exc)
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = 'Basic realm="seamline"'
        return JSONResponse(_error_body(exc.code, exc.message, errors), status_code=status, headers=headers)

    async def on_request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if is_console(request):
            # A console address with a malformed part (a profile id that is not a number) names nothing.
            is_path = any(err["loc"][0] == "path" for err in exc.errors())
            return error_page(request, exc, status=404 if is_path else 400)
        errors = [
            FieldError(".".join(str(p) for p in err["loc"][1:]) or "body", err["type"], err["msg"])
            for err in exc.errors()
        ]
        return JSONResponse(_error_body("invalid_input", "the request is not valid", errors), status_code=400)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_console(request):
            return error_page(request, exc, status=exc.status_code)
        return JSONResponse(
            _error_body("http_error", str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if is_console(request):
            return error_page(request, exc, status=500)
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(_error_body("internal", "an internal error occurred; it has been logged"), 500)

    app.add_exception_handler(SeamlineError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(settings: Settings, *, embedded_worker: bool = False, embedded_dispatcher: bool = False) -> FastAPI:
    """The HTTP app; with `embedded_worker` it also processes the inbox, as `seamline serve` does: in a child
    process it supervises, or in a thread when `settings.serve_worker` says so; with `embedded_dispatcher` it
    delivers the outbox in a thread."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            pool_size=settings.db_pool_size,
        )
        writer = InboxWriter(engine, max_group_events=settings.inbox_group_max_events)
        writer.start()
        audit = AuditWriter(engine, flush=settings.read_audit_fsync, gather=settings.read_audit_gather_ms / 1000)
        audit.start()
        worker: WorkerSupervisor | Worker | None = None
        if embedded_worker:
            if settings.serve_worker == "process":
                worker = WorkerSupervisor(settings, metrics)
            else:
                worker = Worker(engine, settings, metrics)
            worker.start()
        dispatcher = (
            build_dispatcher(engine, settings, unsubscribe_url=unsubscribe_link(settings))
            if embedded_dispatcher
            else None
        )
        if dispatcher is not None:
            dispatcher.start()
        runtime = Runtime(engine, writer, worker)
        app.state.runtime = runtime
        app.state.ingestion = IngestionContext(
            engine=engine,
            writer=writer,
            limits=Limits(
                settings.max_event_bytes,
                settings.max_batch_bytes,
                settings.max_batch_events,
                settings.max_message_id_length,
            ),
            limiter=RateLimiter(),
            metrics=metrics,
            rate_limit_per_second=settings.rate_limit_per_second,
            rate_limit_burst=settings.rate_limit_burst,
            public_url=settings.public_base_url,
        )

        def read_backlog() -> int:
            with unit_of_work(engine, write=False) as session:
                return backlog(session)

        def read_quarantine() -> int:
            with unit_of_work(engine, write=False) as session:
                return quarantine_size(session)

        def read_outbox() -> tuple[dict[str, int], dict[str, float]]:
            with unit_of_work(engine, write=False) as session:
                return outbox_counts(session), lag_seconds(session)

        app.state.profiles = ProfilesContext.build(
            engine,
            Pipeline(settings.identity, settings.consent, settings.traits),
            settings.survivorship,
            audit,
            settings.api_key_cache_seconds,
        )
        saves = SaveWriter(engine)  # the journey API's saves, by group commit (docs/journeys.md, Performance)
        saves.start()
        app.state.journeys = JourneysApi(
            settings.journeys, settings.cases.calendar.calendar(), signing_secret(settings), saves
        )
        load_configured_definitions(engine, settings.journeys)
        app.state.console = ConsoleContext.build(
            engine,
            Pipeline(settings.identity, settings.consent, settings.traits),
            settings.survivorship,
            audit,
            settings.console,
        )
        matcher = MatchingApi(
            MatchingContext.build(
                settings.matching, app.state.profiles.identity, settings.survivorship, settings.data_dir
            ),
            MatchIndex(),
        )
        app.state.matching = matcher
        # The journeys' prefill counters join trait provenance in the redundant-collection report.
        app.state.assessment = Assessment(
            engine, app.state.templates, settings.assessment, collection_counts, step_times
        )
        app.state.analytics = Analytics(engine)
        app.state.dashboards = Dashboards(
            engine, app.state.assessment, app.state.analytics, settings.reports, reports_audience(settings)
        )
        if current_model(matcher.ctx) is not None:
            # Fill the real-time index now, in a thread, rather than in the first search after a start (18 s for
            # 200k profiles, measured); requests that come sooner wait for it, later ones refresh what changed.
            threading.Thread(target=_warm, args=(engine, matcher), name="match-index", daemon=True).start()
        # An erasure made by any process empties this one's caches and match index within a second, even when no
        # search comes (a search reads the change feed itself before it answers).
        follower = ErasureFollower(engine, on_erased=lambda ids: forget_profiles(matcher.index, ids))
        follower.start()
        metrics.watch_backlog(read_backlog)
        metrics.watch_quarantine(read_quarantine)
        metrics.watch_outbox(read_outbox, (lambda: dispatcher.attempts) if dispatcher is not None else None)
        if worker is not None:

            def read_worker() -> tuple[bool, int]:
                health = runtime.worker_health()
                return health.is_alive, health.restarts

            metrics.watch_worker(read_worker)
        # Everything allocated so far lives as long as the process: out of the collector's sight (collector.py).
        collector.freeze_start_up()
        try:
            yield
        finally:
            follower.stop()
            writer.stop()
            saves.stop()
            audit.stop()
            if worker is not None:
                worker.stop()
            if dispatcher is not None:
                dispatcher.stop()
            app.state.profiles.close()
            app.state.assessment.close()
            app.state.analytics.close()
            engine.dispose()
            collector.thaw()

    app = FastAPI(
        title="Seamline",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    _install_error_handlers(app)
    app.state.cases = settings.cases
    app.state.templates = Catalog(settings.email.templates_dir)
    app.state.tasks = settings.tasks
    app.state.feedback = feedback_setup(settings, app.state.templates)  # a bad survey file stops the start
    app.state.errors_policy = PolicyStore(settings.errors.policy_file)  # a bad policy file stops the start
    app.state.decisions = DecisionsSetup.build(
        settings.decisions, settings.consent, settings.survivorship, settings.cases
    )  # a bad action file stops the start, naming the file, line and field
    # Corrections before the profile API only because /v1/profiles/search must win over /v1/profiles/{id}; then the
    # profile API: routes are matched in order, and lookups are the latency-sensitive reads. The consent API (4 routes,
    # with the consent check) before tracking's 30: matching them cost the consent check ~30 route checks per answer.
    app.include_router(corrections_router)
    app.include_router(profiles_router)
    app.include_router(consent_router)
    # The journey API (13 routes) before tracking's 30 and the rest: its saves and resumes have a latency goal
    # (docs/journeys.md, Performance), and matching ~70 routes before them was a quarter of a save's request CPU.
    app.include_router(journeys_router)
    app.include_router(tracking_router)
    app.include_router(privacy_router)
    app.include_router(cases_router)
    app.include_router(communications_router)
    app.include_router(destinations_router)
    app.include_router(errors_router)
    app.include_router(inbox_router)
    app.include_router(providers_router(settings))
    app.include_router(decisions_router)
    app.include_router(matching_router)
    app.include_router(tasks_router)
    app.include_router(feedback_router)
    app.include_router(assessment_router)
    app.include_router(analytics_router)
    app.include_router(reports_router)
    app.include_router(preferences_router(settings))
    app.include_router(links_router(settings))
    # Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes) as the fastapi-offline package ships it: no CDN.
    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_UI), name="swagger")
    mount_console(app)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Seamline API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon.png",
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(
                get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers; how its worker is")
    async def healthz(request: Request) -> dict[str, object]:
        # The API's liveness does not hang on the worker's: events are accepted into the durable inbox either way,
        # and a dead worker child is restarted by the supervisor. `worker.alive` is there for whoever watches it.
        runtime: Runtime = request.app.state.runtime
        return {"status": "ok", "worker": runtime.worker_health().as_dict()}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: database reachable and schema current",
        responses=errors(503),
    )
    async def readyz(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            with runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            schema_current = is_up_to_date(runtime.engine)
        except Exception as exc:  # any failure to reach the database means "not ready", never a 500
            return JSONResponse({"status": "unavailable", "reason": str(exc)[:200]}, status_code=503)
        if not schema_current:
            return JSONResponse({"status": "unavailable", "reason": "schema is behind; run `seamline db upgrade`"}, 503)
        return JSONResponse({"status": "ready"})

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (bearer token, or loopback)",
        responses=errors(
            401,
            403,
            s401="`SEAMLINE_METRICS_TOKEN` is set and the request's bearer token is not it.",
            s403="No metrics token is configured and the client is not on loopback.",
        ),
    )
    async def prometheus(request: Request) -> Response:
        if settings.metrics_token:
            given = request.headers.get("authorization", "")
            if not secrets.compare_digest(given, f"Bearer {settings.metrics_token}"):
                raise Unauthorized("a valid metrics bearer token is required")
        elif not _is_loopback(request.client.host if request.client else None):
            raise Forbidden("set SEAMLINE_METRICS_TOKEN to read metrics from another host")
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    RouteIndex.install(app)  # a request tests only the routes its path's first two segments allow (api/routing.py)
    return app
