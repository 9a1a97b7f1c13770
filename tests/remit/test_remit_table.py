"""The remit file: the shipped one is valid, a bad one is refused with every error on its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotline.cli import main
from hotline.config import ConfigError, load_config
from hotline.config.remit import load_remit
from hotline.config.secrets import write_demo_secrets

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hall(tmp_path: Path) -> Path:
    shutil.copy(REPO / "hotline.conf", tmp_path / "hotline.conf")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")
    assert write_demo_secrets(tmp_path / "hotline.conf") is not None
    return tmp_path


def test_shipped_table_has_the_city_departments_sections_and_overlaps() -> None:
    table = load_remit(REPO / "remit.conf")
    assert len(table.departments) >= 12
    assert {"城市管理局", "生态环境局", "民政局", "住房和城乡建设局", "交通运输局", "市场监督管理局",
            "供水集团", "供电公司", "人力资源和社会保障局", "公安局", "教育局", "卫生健康委员会",
            "自然资源和规划局"} <= set(table.names)
    civil = table.department("民政局")
    assert civil is not None and "区划地名科" in [s.name for s in civil.sections]
    barbecue = next(o for o in table.overlaps if o.name == "露天烧烤")
    assert (barbecue.winner, barbecue.over[0]) == ("城市管理局", "生态环境局")
    assert "我们" in table.ignore


def test_hotline_conf_names_the_table(hall: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = load_config(hall / "hotline.conf")
    assert config.remit.path == hall / "remit.conf"
    assert main(["-c", str(hall / "hotline.conf"), "check"]) == 0
    assert f"三定方案：{len(config.remit.departments)} 个部门" in capsys.readouterr().out


def test_without_a_remit_file_the_department_keywords_are_the_table(hall: Path) -> None:
    text = (hall / "hotline.conf").read_text(encoding="utf-8").replace("file = remit.conf", "file =")
    (hall / "hotline.conf").write_text(text, encoding="utf-8")
    config = load_config(hall / "hotline.conf")
    assert config.remit.names == tuple(d.name for d in config.departments)


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(needle))


def test_every_error_in_the_table_names_its_line(hall: Path, capsys: pytest.CaptureFixture[str]) -> None:
    remit = hall / "remit.conf"
    text = remit.read_text(encoding="utf-8")
    text = text.replace("winner = 城市管理局/综合执法支队\nover = 生态环境局, 公安局",
                        "winner = 城市管里局\nover = 生态环境局, 公安局", 1)
    text = text.replace("[section 民政局/区划地名科]", "[section 民正局/区划地名科]", 1)
    text += "\n[department 空部门]\nabout = 什么也不管\ncolour = 蓝\n"
    remit.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_remit(remit)
    shown = [str(issue) for issue in caught.value.issues]
    assert any(s.endswith(f"remit.conf 第 {line_of(remit, 'winner = 城市管里局')} 行：[overlap 露天烧烤] "
                          "winner：没有部门“城市管里局”；是否想写“城市管理局”？") for s in shown)
    assert any(f"remit.conf 第 {line_of(remit, '[section 民正局')} 行：" in s and "没有部门“民正局”" in s
               for s in shown)
    assert any(f" 第 {line_of(remit, 'colour')} 行：[department 空部门] colour：未知的键" in s for s in shown)
    assert any("[department 空部门] keywords：既没有关键词也没有例句" in s for s in shown)
    assert main(["-c", str(hall / "hotline.conf"), "check"]) == 2
    err = capsys.readouterr().err
    assert f"remit.conf 第 {line_of(remit, 'winner = 城市管里局')} 行：" in err


def test_a_missing_table_file_is_refused(hall: Path) -> None:
    (hall / "remit.conf").unlink()
    with pytest.raises(ConfigError, match=r"hotline.conf 第 \d+ 行：\[remit\] file：文件 .* 不存在"):
        load_config(hall / "hotline.conf")
