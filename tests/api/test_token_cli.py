"""`hotline token add|list|revoke` on a copy of the hall's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.api import create_app
from hotline.cli import EXIT_OK, EXIT_REFUSED, main
from hotline.config import load_config
from hotline.db import AuditEntry, make_engine, make_session_factory
from tests.api.helpers import bearer


def run(hall: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["-c", str(hall / "hotline.conf"), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_the_token_once_and_it_works(hall_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(hall_dir, capsys, "token", "add", "--role", "admin",
                         "--name", "admin.li")

    token = out.strip()
    assert code == EXIT_OK
    assert token.startswith("hl_") and "\n" not in token  # alone on stdout, for scripts
    assert "令牌只显示这一次" in err
    config = load_config(hall_dir / "hotline.conf")
    with TestClient(create_app(config)) as client:
        response = client.get("/api/me", headers=bearer(token))
    assert response.json()["name"] == "admin.li"
    assert Path(config.database.url.removeprefix("sqlite:///")).is_file()


def test_list_shows_tokens_but_never_their_values(hall_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    tokens = [run(hall_dir, capsys, "token", "add", "--role", role, "--name", name)[1].strip()
              for role, name in [("admin", "admin.li"), ("monitor", "wallboard")]]

    code, out, _ = run(hall_dir, capsys, "token", "list")

    assert code == EXIT_OK
    header, *rows = out.splitlines()
    assert header.split() == ["编号", "名称", "角色", "坐席", "创建时间", "最近使用", "吊销时间"]
    assert [row.split()[:4] for row in rows] == [["1", "admin.li", "admin", "-"],
                                                 ["2", "wallboard", "monitor", "-"]]
    assert all(row.split()[-1] == "-" for row in rows)  # not revoked
    for token in tokens:
        assert token not in out
    assert "hl_" not in out


def test_unknown_role_and_duplicate_name_are_refused(hall_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(hall_dir, capsys, "token", "add", "--role", "root", "--name", "x")
    assert (code, out) == (EXIT_REFUSED, "")
    assert "未知的角色“root”" in err

    assert run(hall_dir, capsys, "token", "add", "--role", "operator", "--name", "ops")[0] \
        == EXIT_OK
    code, out, err = run(hall_dir, capsys, "token", "add", "--role", "admin", "--name", "ops")
    assert (code, out) == (EXIT_REFUSED, "")
    assert "已有名为“ops”的有效令牌" in err


def test_revoke_by_name_and_by_id(hall_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = run(hall_dir, capsys, "token", "add", "--role", "operator", "--name", "ops")[1]
    run(hall_dir, capsys, "token", "add", "--role", "monitor", "--name", "wall")

    code, out, _ = run(hall_dir, capsys, "token", "revoke", "ops")
    assert code == EXIT_OK
    assert out.strip() == "已吊销令牌 1（ops，operator）"
    assert run(hall_dir, capsys, "token", "revoke", "--id", "2")[0] == EXIT_OK

    rows = run(hall_dir, capsys, "token", "list")[1].splitlines()[1:]
    assert all(row.split()[-1] != "-" for row in rows)  # both show a revocation time
    assert run(hall_dir, capsys, "token", "list", "--active")[1].splitlines()[1:] == []
    config = load_config(hall_dir / "hotline.conf")
    with TestClient(create_app(config)) as client:
        assert client.get("/api/me", headers=bearer(token.strip())).status_code == 401


def test_revoke_refusals(hall_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(hall_dir, capsys, "token", "revoke", "nobody")
    assert code == EXIT_REFUSED and "没有名为“nobody”的有效令牌" in err

    code, _, err = run(hall_dir, capsys, "token", "revoke")
    assert code == EXIT_REFUSED and "请给出令牌名称或 --id 编号" in err


def test_cli_changes_are_audited(hall_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(hall_dir, capsys, "token", "add", "--role", "monitor", "--name", "wall")
    run(hall_dir, capsys, "token", "revoke", "wall")

    engine = make_engine(load_config(hall_dir / "hotline.conf").database.url)
    try:
        with make_session_factory(engine)() as session:
            entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    finally:
        engine.dispose()
    assert [e.action for e in entries] == ["token.add", "token.revoke"]
    assert all(e.actor.startswith("cli") and e.target == "token:wall" for e in entries)


def test_a_broken_configuration_is_refused(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "hotline.conf").write_text("[database]\nurl = mysql://x\n", encoding="utf-8")

    code, _, err = run(tmp_path, capsys, "token", "list")

    assert code == EXIT_REFUSED
    assert "hotline：配置中有 3 个问题：" in err
    assert "hotline.conf 第 2 行：[database] url：应为以 sqlite:/// 或 postgresql+psycopg:// 开头" in err


def test_operator_tokens_are_bound_to_a_seat_or_declared_team_lead(
        hall_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("--name", "zhang.wei", "--seat", "07"), ("--name", "12"),
                 ("--name", "li.lead", "--team-lead"), ("--name", "alice")):
        code, _, err = run(hall_dir, capsys, "token", "add", "--role", "operator", *argv)
        assert code == EXIT_OK, err
    _, out, _ = run(hall_dir, capsys, "token", "list")
    seats = {row.split()[1]: row.split()[3] for row in out.splitlines()[1:]}
    assert seats == {"zhang.wei": "07", "12": "12", "li.lead": "班长", "alice": "-"}


@pytest.mark.parametrize(("argv", "words"), [
    (("--role", "operator", "--name", "x", "--seat", "99"), "没有坐席“99”"),
    (("--role", "monitor", "--name", "x", "--seat", "07"), "只有话务员（operator）令牌可以绑定坐席"),
    (("--role", "admin", "--name", "x", "--team-lead"), "管理员（admin）令牌不行"),
])
def test_a_binding_that_does_not_fit_is_refused(hall_dir: Path, capsys: pytest.CaptureFixture[str],
                                                argv: tuple[str, ...], words: str) -> None:
    code, out, err = run(hall_dir, capsys, "token", "add", *argv)
    assert (code, out) == (EXIT_REFUSED, "") and words in err
    assert run(hall_dir, capsys, "token", "list")[1].count("\n") <= 1  # nothing was created
