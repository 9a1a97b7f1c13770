"""schemathesis against the application's own OpenAPI document, in process (ASGI).

The application is the full one, `hotline.wiring.build_app(config, bridge=False)`, on a freshly
migrated SQLite file holding a few voicemails with queued callbacks, called with an admin token
and with a monitor token. Two variants:

- `api_only`: exactly what `build_app(bridge=False)` serves. The telephony routes answer 503
  `bridge_not_running` there, by design and documented; nothing else may be a 5xx.
- `idle_hall`: the same app with a `Hall` attached that was never started (its AMI client never
  connects), so the seat, call, queue, three-way and dial routes run their own validation and
  logic. The only 5xx allowed is the PBX being unreachable (503 `pbx_unreachable`, 502
  `dial_failed`), which is what an action that needs Asterisk must answer without one.

Every response must have a documented status and a body that fits the schema (schemathesis'
checks); every error is the API's JSON error shape (hotline/api/errors.py); a refused request
changes no stored data; a schema-valid request is refused with 422 only by a rule the schema
cannot state (which field goes with which). Bounded and seeded: the same cases on every run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, CheckFunction, Response
from schemathesis.python import asgi
from sqlalchemy import Engine, inspect, text

from hotline.api.app import OPENAPI_URL
from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from hotline.wiring import attach_bridge, build_app
from telephony.hall import Hall
from tests.api.conftest import REPO
from tests.voicemail.callback_fixtures import add_valid

SEED = 20261128
MAX_EXAMPLES = 12
"""Per operation, role and variant in the fuzzing phase (the examples and coverage phases add
their own, bounded by the schema)."""
SEEDED_CALLBACKS = 3
ROLES = (Role.ADMIN, Role.MONITOR)
UNSTORED_TABLES = frozenset({"alembic_version", "api_tokens"})
"""api_tokens.last_used_at moves on any authenticated request, refused or not."""
ERROR_KEYS = frozenset({"code", "message", "detail"})
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PBX_OUTAGES: dict[str, frozenset[tuple[int, str]]] = {
    "api_only": frozenset({(503, "bridge_not_running")}),
    "idle_hall": frozenset({(503, "pbx_unreachable"), (502, "dial_failed")}),
}
CROSS_FIELD_RULES = frozenset({
    "department_or_expert",  # three-way: a department or one expert, not both, not neither
    "department_required",  # callback outcome reached_transferred needs the department
    "department_unexpected",  # ... and no other outcome takes one
    "unknown_department",  # the department must be one of hotline.conf's
    "duplicate_of_required",  # voicemail decision: the verdict duplicate names duplicate_of
    "invalid_range",  # statistics: `from` after `to`
    "range_too_long",  # statistics: at most a year between `from` and `to`
    "unknown_section",  # written channels: the section must be one of the remit table's
    "reason_required",  # written channels: 退回 (return) needs a reason
    "import_refused",  # written channels: the CSV/XLSX file's rows, checked one by one
    "day_outside_range",  # reports: the day shown per hour lies within `from`..`to`
    "invalid_date",  # 质检: a day the pattern lets through but the calendar has not (2026-02-30)
})
"""422 codes a schema-valid request may get: rules between fields, or against the hall's
configuration, that JSON Schema as FastAPI writes it cannot express."""

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "max-stream-events": 1,  # /api/events never ends; its first frame is enough
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
    "checks": {
        # 5xx are judged by `only_pbx_outages` below, per variant and error code.
        "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "503"]},
        # 422 for valid input is judged by `no_schema_valid_input_refused` below.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "410", "422",
                                                           "502", "503"]},
    },
})


@dataclass
class FuzzTarget:
    variant: str
    app: Any
    engine: Engine
    tokens: dict[Role, str] = field(default_factory=dict)


@pytest.fixture(scope="module", params=sorted(PBX_OUTAGES))
def fuzz_target(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    config = load_config(REPO / "hotline.conf", overrides={
        "database.url": f"sqlite:///{folder}/hotline.db",
        "voicemail.spool": str(folder / "spool"), "voicemail.archive": str(folder / "archive")})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    add_valid(sessions, SEEDED_CALLBACKS)
    app = build_app(config, bridge=False)
    if request.param == "idle_hall":
        attach_bridge(app, Hall(config, sessions))  # never started: no AMI connection, ever
    target = FuzzTarget(request.param, app, engine)
    with session_scope(sessions) as session:
        target.tokens = {role: add_token(session, f"fuzz-{role.value}", role) for role in ROLES}
    try:
        yield target
    finally:
        asgi.shutdown_lifespans()
        engine.dispose()


@pytest.fixture(params=ROLES, ids=[role.value for role in ROLES])
def role(request: pytest.FixtureRequest) -> Role:
    return request.param


def served_document() -> dict[str, Any]:
    """The document /api/openapi.json serves, from an app that never opens its database.

    The cases are generated at collection and each test points them at its own app.
    (schemathesis' fixture-based loader, `schemathesis.pytest.from_fixture`, cannot be used:
    it reads `node._nodeid`, which pytest 9.2 no longer has.)
    """
    config = load_config(REPO / "hotline.conf", overrides={"database.url": "sqlite://"})
    return build_app(config, bridge=False).openapi()


DOCUMENT = served_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


# ----- checks of our own --------------------------------------------------------------------


def error_of(response: Response) -> dict[str, Any]:
    """The `error` object of an error response, after checking the whole body's shape."""
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), \
        f"{response.status_code} answered with {content_type!r}, not JSON: {response.text[:200]!r}"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {body!r}"
    error = body["error"]
    assert isinstance(error, dict) and {"code", "message"} <= set(error) <= ERROR_KEYS, \
        f"not the error shape: {body!r}"
    assert isinstance(error["code"], str) and CODE_PATTERN.match(error["code"]), \
        f"error code {error['code']!r} is not a snake_case string"
    assert isinstance(error["message"], str) and error["message"].strip(), \
        f"empty error message in {body!r}"
    return error


def error_shape(_ctx: CheckContext, response: Response, _case: Case) -> bool | None:
    """Every 4xx and 5xx is {"error": {"code", "message", "detail"}}."""
    if response.status_code >= 400:
        error_of(response)
    return None


def outage_check(variant: str) -> CheckFunction:
    allowed = PBX_OUTAGES[variant]

    def only_pbx_outages(_ctx: CheckContext, response: Response, _case: Case) -> bool | None:
        """No 5xx except the PBX being out of reach, as this variant must answer it."""
        if response.status_code >= 500:
            code = error_of(response)["code"]
            assert (response.status_code, code) in allowed, \
                f"server error {response.status_code} {code}: {response.text[:300]}"
        return None

    return only_pbx_outages


def no_schema_valid_input_refused(_ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A request the schema calls valid gets 422 only for a rule the schema cannot state."""
    meta = case.meta
    if response.status_code == 422 and meta is not None and meta.generation.mode.is_positive:
        code = error_of(response)["code"]
        assert code in CROSS_FIELD_RULES, \
            f"schema-valid input refused with {code}; document the constraint: {response.text[:300]}"
    return None


def stored_data(engine: Engine) -> str:
    """A digest of every stored row the API may change."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in sorted(set(inspect(connection).get_table_names()) - UNSTORED_TABLES):
            rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            digest.update(f"{table}:{rows!r}".encode())
    return digest.hexdigest()


# ----- the run --------------------------------------------------------------------------------


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_schema_and_its_error_shape(case: Case, fuzz_target: FuzzTarget,
                                                      role: Role) -> None:
    # The document was loaded once, for collection; this case's requests, and the probes some
    # checks send on their own (without the token, with another method), go to this test's app.
    case.operation.schema.app = case.operation.app = fuzz_target.app
    headers = {"Authorization": f"Bearer {fuzz_target.tokens[role]}"}
    before = stored_data(fuzz_target.engine)
    response = case.call(headers=headers)
    if response.status_code >= 400:
        assert stored_data(fuzz_target.engine) == before, \
            f"refused with {response.status_code} but stored data changed: {response.text[:300]}"
    case.validate_response(response, headers=headers, additional_checks=[
        error_shape, outage_check(fuzz_target.variant), no_schema_valid_input_refused])


def test_the_cases_come_from_the_document_the_app_serves(fuzz_target: FuzzTarget) -> None:
    served = TestClient(fuzz_target.app).get(OPENAPI_URL)

    assert served.status_code == 200
    assert served.json() == DOCUMENT
