"""The render as files: deterministic bytes, stable mtimes, stale files removed, headers, CLI."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from hotline.cli import EXIT_OK, EXIT_REFUSED, main
from hotline.config import HotlineConfig, load_config
from ivr.output import GENERATED_BY, INDEX_NAME
from ivr.render import render_pbx

SECRET_FILES = ("hotline-pbx.json", "manager.conf", "pjsip.conf")
CONF_FILES = ("acl.conf", "ccss.conf", "cdr.conf", "cel.conf", "confbridge.conf",
              "extensions.conf", "features.conf", "indications.conf", "logger.conf",
              "manager.conf", "modules.conf", "pjproject.conf", "pjsip.conf", "queues.conf",
              "rtp.conf", "stasis.conf", "udptl.conf")


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_renders_with_fresh_caches_are_byte_identical(hall: HotlineConfig,
                                                          tmp_path: Path) -> None:
    """Prompts included: espeak-ng and sox (without dither) must give the same bytes."""
    render_pbx(hall, tmp_path / "a", prompt_cache=tmp_path / "cache-a")
    render_pbx(hall, tmp_path / "b", prompt_cache=tmp_path / "cache-b")
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first == second
    assert set(CONF_FILES) <= set(first)
    wavs = {name for name in first if name.startswith("sounds/hotline/")}
    expected = {f"sounds/hotline/{name}.wav" for name in (
        "greeting", "after-hours", "overflow", "named-operator", "threeway-whisper", "beep",
        "recording-notice")}
    expected |= {f"sounds/hotline/operator-{seat.seat_id}.wav" for seat in hall.seats}
    assert wavs == expected


def test_every_text_file_says_it_is_generated(hall: HotlineConfig, tmp_path: Path) -> None:
    render_pbx(hall, tmp_path)
    for name in CONF_FILES:
        first = (tmp_path / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"; {GENERATED_BY}", name
        assert "hotline pbx render" in first and "hotline.conf" in first
    manifest = json.loads((tmp_path / "hotline-pbx.json").read_text(encoding="utf-8"))
    assert manifest["_generated"] == GENERATED_BY
    assert (tmp_path / INDEX_NAME).read_text(encoding="utf-8").startswith("# " + GENERATED_BY)


def test_manifest_holds_connection_data_and_no_sip_secret(hall: HotlineConfig,
                                                          tmp_path: Path) -> None:
    render_pbx(hall, tmp_path)
    text = (tmp_path / "hotline-pbx.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert manifest["ami"] == {"host": "127.0.0.1", "port": hall.ami.port,
                               "username": hall.ami.username, "secret": hall.ami.secret}
    assert manifest["sip"] == {"bind": "127.0.0.1", "port": hall.sip.port}
    for seat in hall.seats:
        assert seat.password not in text
    for expert in hall.experts:
        assert not expert.password or expert.password not in text


def test_files_with_passwords_are_private(hall: HotlineConfig, tmp_path: Path) -> None:
    render_pbx(hall, tmp_path)
    for name in SECRET_FILES:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((tmp_path / "extensions.conf").stat().st_mode) == 0o644
    assert hall.seats[0].password in (tmp_path / "pjsip.conf").read_text(encoding="utf-8")


def test_unchanged_files_keep_their_mtime_and_only_changes_are_written(
        hall_conf: Path, hall: HotlineConfig, tmp_path: Path) -> None:
    first = render_pbx(hall, tmp_path)
    assert set(first.written) == set(tree(tmp_path)) - {INDEX_NAME}
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    again = render_pbx(hall, tmp_path)
    assert again.written == () and again.removed == ()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == before
    slower = load_config(hall_conf, overrides={"queue.ring_timeout": "20"})
    changed = render_pbx(slower, tmp_path)
    assert set(changed.written) == {"queues.conf", "extensions.conf"}


def test_stale_generated_files_are_removed_and_foreign_files_kept(
        hall_conf: Path, hall: HotlineConfig, tmp_path: Path) -> None:
    bigger = load_config(hall_conf, overrides={"seats.51": "1051",
                                               "seat-passwords.51": "pw-51"})
    render_pbx(bigger, tmp_path)
    assert (tmp_path / "sounds/hotline/operator-51.wav").exists()
    (tmp_path / "pjsip_local.conf").write_text("; site file\n", encoding="utf-8")
    report = render_pbx(hall, tmp_path)
    assert report.removed == ("sounds/hotline/operator-51.wav",)
    assert not (tmp_path / "sounds/hotline/operator-51.wav").exists()
    assert (tmp_path / "pjsip_local.conf").read_text(encoding="utf-8") == "; site file\n"
    assert "1051" not in (tmp_path / "pjsip.conf").read_text(encoding="utf-8")


def test_cli_renders_next_to_the_config_by_default(hall_conf: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "hall"
    folder.mkdir()
    for name in ("hotline.conf", "hotline.secrets", "remit.conf"):
        shutil.copy(hall_conf.parent / name, folder / name)
    assert main(["-c", str(folder / "hotline.conf"), "pbx", "render"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"已写入  {folder / 'dialplans' / 'extensions.conf'}" in out
    assert (folder / "dialplans" / "sounds" / "hotline" / "greeting.wav").exists()
    assert main(["-c", str(folder / "hotline.conf"), "pbx", "render"]) == EXIT_OK
    assert "写入 0 个文件" in capsys.readouterr().out


def test_cli_refuses_a_broken_config_and_writes_nothing(hall_conf: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        ) -> None:
    folder = tmp_path / "hall"
    folder.mkdir()
    shutil.copy(hall_conf.parent / "hotline.secrets", folder / "hotline.secrets")
    shutil.copy(hall_conf.parent / "remit.conf", folder / "remit.conf")
    text = hall_conf.read_text(encoding="utf-8").replace("strategy = rrmemory",
                                                         "strategy = roundrobin")
    (folder / "hotline.conf").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["-c", str(folder / "hotline.conf"), "pbx", "render", "--out", str(out)]) \
        == EXIT_REFUSED
    assert "strategy" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_what_asterisk_cannot_use_and_writes_nothing(
        hall_conf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A spool path with a space would break the dialplan: refused (hotline check refuses it too)."""
    folder = tmp_path / "hall"
    folder.mkdir()
    shutil.copy(hall_conf.parent / "hotline.secrets", folder / "hotline.secrets")
    shutil.copy(hall_conf.parent / "remit.conf", folder / "remit.conf")
    text = hall_conf.read_text(encoding="utf-8").replace(
        "pbx_spool = /var/spool/asterisk/hotline", "pbx_spool = /var/spool/my hotline")
    (folder / "hotline.conf").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["-c", str(folder / "hotline.conf"), "pbx", "render", "--out", str(out)]) \
        == EXIT_REFUSED
    assert "pbx_spool" in capsys.readouterr().err
    assert not out.exists()
