"""`hotline pbx render` with two PBXs: each gets its own configuration with only its seats."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.cli import EXIT_OK, EXIT_REFUSED, main
from tests.two_halls import two_hall_conf


def test_render_writes_each_pbx_with_only_its_seats(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    conf = two_hall_conf(tmp_path / "hall")
    assert main(["-c", str(conf), "check"]) == EXIT_OK
    checked = capsys.readouterr().out
    assert "52 个坐席" in checked and "交换机 west（城西大厅）：2 个坐席" in checked
    assert main(["-c", str(conf), "pbx", "render"]) == EXIT_OK
    main_dir, west_dir = conf.parent / "dialplans", conf.parent / "dialplans" / "pbx-west"
    main_pjsip = (main_dir / "pjsip.conf").read_text(encoding="utf-8")
    west_pjsip = (west_dir / "pjsip.conf").read_text(encoding="utf-8")
    assert "[1001]" in main_pjsip and "1061" not in main_pjsip
    assert "[1061]" in west_pjsip and "[1001]" not in west_pjsip and "127.0.0.1:6060" in west_pjsip
    assert "port=6038" in (west_dir / "manager.conf").read_text(encoding="utf-8")
    assert "port=5038" in (main_dir / "manager.conf").read_text(encoding="utf-8")
    assert (west_dir / "sounds" / "hotline" / "operator-61.wav").exists()
    assert not (main_dir / "sounds" / "hotline" / "operator-61.wav").exists()
    assert not (west_dir / "sounds" / "hotline" / "operator-01.wav").exists()
    # Rendering the first PBX alone again leaves the other's folder in place.
    assert main(["-c", str(conf), "pbx", "render", "--pbx", "main"]) == EXIT_OK
    assert (west_dir / "pjsip.conf").exists()


def test_render_of_one_named_pbx_and_of_an_unknown_one(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    conf = two_hall_conf(tmp_path / "hall")
    out = tmp_path / "west-only"
    assert main(["-c", str(conf), "pbx", "render", "--pbx", "west", "--out", str(out)]) == EXIT_OK
    assert "[1061]" in (out / "pjsip.conf").read_text(encoding="utf-8")
    assert not (conf.parent / "dialplans").exists()
    assert main(["-c", str(conf), "pbx", "render", "--pbx", "wset"]) == EXIT_REFUSED
    assert "没有名为“wset”的交换机" in capsys.readouterr().err
