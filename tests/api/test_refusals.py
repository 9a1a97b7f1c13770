"""One refusal shape: every capability's refusals have a unique stable code and a status, and the
one handler renders them in the API's error shape."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from hotline.api import create_app
from hotline.auth import Role
from hotline.auth.deps import require_role
from hotline.errors import REFUSALS, Refusal
from seat_manager.errors import NotLoggedIn, SeatError
from tests.api.helpers import bearer

ERROR_MODULES = ("hotline.auth.errors", "seat_manager.errors", "telephony.errors",
                 "telephony.threeway.errors", "voicemail.errors", "voicemail.callbacks.errors",
                 "quality.errors", "written.errors", "hotline.reports.errors")
CJK = re.compile(r"[\u4e00-\u9fff]")
PINNED = {  # what clients branch on: a code may be added, never renamed or given another status
    401: "invalid_token missing_token",
    403: "forbidden not_claimer not_your_call not_your_seat",
    404: "call_not_found callback_not_found department_not_found expert_not_found hall_not_found "
         "message_not_found no_audio nothing_to_claim review_not_found seat_not_found session_not_found "
         "voicemail_not_found",
    409: "already_claimed already_decided already_logged_in already_over call_not_connected "
         "call_not_two_party closed department_has_no_experts idempotency_key_reused "
         "invalid_duplicate_of no_callback_number no_expert_in_call "
         "not_claimed not_decided not_dialling not_due not_in_conference not_logged_in not_paused "
         "nothing_to_undo pbx_refused seat_busy seat_not_on_call three_way_in_progress version_conflict",
    410: "audio_deleted audio_missing audio_unreadable",
    413: "payload_too_large",
    422: "day_outside_range department_or_expert department_required department_unexpected "
         "duplicate_of_required import_refused invalid_callback_number invalid_date invalid_outcome "
         "invalid_range invalid_reason invalid_request invalid_scores invalid_state invalid_urgency "
         "invalid_verdict range_too_long reason_required reason_too_long undiallable_number "
         "unknown_action unknown_department unknown_hall unknown_section",
    502: "dial_failed",
    503: "bridge_not_running database_unavailable form_misconfigured pbx_timeout pbx_unreachable",
}


def _all_refusals() -> list[type[Refusal]]:
    for name in ERROR_MODULES:
        importlib.import_module(name)
    found, todo = [], [Refusal]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        found.append(cls)
    return found


def test_every_concrete_refusal_has_a_unique_code_and_an_error_status() -> None:
    concrete = [cls for cls in _all_refusals() if hasattr(cls, "code")]
    codes = [cls.code for cls in concrete]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    assert len(concrete) >= 60  # seats, hall, three-way, voicemail, callbacks, 质检, written channels
    for cls in concrete:
        assert REFUSALS[cls.code] is cls
        assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.code), cls
        assert 400 <= cls.status < 600, cls
    pinned = {code: status for status, codes in PINNED.items() for code in codes.split()}
    assert {code: cls.status for code, cls in REFUSALS.items() if code in pinned} == pinned


def test_a_second_class_may_not_claim_a_code_and_a_base_cannot_be_raised() -> None:
    with pytest.raises(TypeError, match="not_logged_in"):
        type("Again", (SeatError,), {"code": "not_logged_in"})
    with pytest.raises(TypeError, match="names no code"):
        SeatError("坐席出错")


def test_the_one_handler_renders_a_refusal_in_the_error_shape(config, make_token) -> None:
    router = APIRouter(dependencies=[Depends(require_role(Role.OPERATOR))])

    @router.post("/refuse")
    def refuse() -> None:
        raise NotLoggedIn("坐席 07 尚未签入", detail={"seat_id": "07"})

    app = create_app(config, extra_routers=[router])
    with TestClient(app) as client:
        answer = client.post("/api/refuse", headers=bearer(make_token(Role.OPERATOR)))
    assert answer.status_code == 409
    assert answer.json() == {"error": {"code": "not_logged_in", "message": "坐席 07 尚未签入",
                                       "detail": {"seat_id": "07"}}}
    assert CJK.search(answer.json()["error"]["message"])


REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hotline", "seat_manager", "telephony", "voicemail", "quality", "written", "remit", "ivr")
ENGLISH = re.compile(r"\b(expected|missing|unknown|duplicate|malformed|must|should|cannot|found|"
                     r"the|is|not|use|add|give|only|already|invalid|e\.g)\b", re.IGNORECASE)


def _fixed_text(node: ast.expr, path: Path) -> str | None:
    """The fixed words of a message argument (placeholders dropped; a module's constant read)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return "".join(text for side in (node.left, node.right) if (text := _fixed_text(side, path)))
    if isinstance(node, ast.Name):  # imported only when needed: a module is not run for nothing
        module = importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts))
        value = getattr(module, node.id, None)
        return value if isinstance(value, str) else None
    return None


def test_every_refusal_message_in_the_code_is_chinese() -> None:
    """A cheap guard: each place that makes a refusal with a written message writes it in Chinese."""
    names = {cls.__name__ for cls in _all_refusals()}
    checked = 0
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = isinstance(node, ast.Call) and (getattr(node.func, "id", None)
                                                       or getattr(node.func, "attr", None))
                if name not in names or not node.args:
                    continue
                text = _fixed_text(node.args[0], path)
                if text is None:
                    continue
                checked += 1
                where = f"{path.relative_to(REPO)}:{node.lineno}"
                assert CJK.search(text), f"{where}: {text!r} is not Chinese"
                assert not ENGLISH.search(text), f"{where}: {text!r} has English words"
    assert checked >= 80
