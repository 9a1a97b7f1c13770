"""What `hotline check` says is Chinese, names the file and line, and each kind of mistake has its words.

The source scan is a cheap guard: a new check written with an English message fails here before an
administrator ever reads it.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
from pathlib import Path

import pytest

from hotline.cli import build_parser, main
from hotline.config import ConfigError, ConfigIssue, load_config
from hotline.config.secrets import write_demo_secrets

REPO = Path(__file__).resolve().parents[2]
CONFIG_SOURCES = sorted((REPO / "hotline" / "config").glob("*.py"))
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"\b(expected|missing|unknown|duplicate|malformed|must|should|cannot|found|"
                     r"the|is|not|use|add|give|only|e\.g)\b", re.IGNORECASE)
REPORTERS = {"fail", "_fail", "ConfigIssue"}
"""What records an issue; its last positional argument is the message."""


def _literal(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The fixed text of a message expression (placeholders dropped); None if it has none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        parts = [_literal(side, constants) for side in (node.left, node.right)]
        return "".join(p for p in parts if p)
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _messages(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                 for target in node.targets if isinstance(target, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name == "ValueError" or name in REPORTERS:
            text = _literal(node.args[-1] if name in REPORTERS else node.args[0], constants)
            if text is not None:
                found.append((node.lineno, text))
    return found


def test_every_configuration_message_in_the_code_is_chinese() -> None:
    checked = 0
    for path in CONFIG_SOURCES:
        for line, text in _messages(path):
            checked += 1
            assert CJK.search(text), f"{path.name}:{line}: {text!r} is not Chinese"
            assert not ENGLISH.search(text), f"{path.name}:{line}: {text!r} has English words"
    assert checked >= 80  # loader, ini, remit and triage: the scan found the checks


def test_an_issue_names_file_and_line_in_chinese() -> None:
    issue = ConfigIssue(Path("/etc/hotline/hotline.conf"), 12, "seats", "07", "分机号“1x07”格式不对")
    assert str(issue) == "/etc/hotline/hotline.conf 第 12 行：[seats] 07：分机号“1x07”格式不对"
    assert str(ConfigIssue(None, None, "ami", "secret", "缺少密钥")) == "配置：[ami] secret：缺少密钥"
    assert str(ConfigIssue(Path("a.conf"), 0, None, None, "文件不存在")) == "a.conf：文件不存在"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(REPO / "hotline.conf", tmp_path / "hotline.conf")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")
    assert write_demo_secrets(tmp_path / "hotline.conf") is not None
    return tmp_path


def _issues(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(issue) for issue in caught.value.issues]


def test_a_missing_file_is_said_in_chinese(tmp_path: Path) -> None:
    path = tmp_path.resolve() / "hotline.conf"
    assert _issues(path) == [f"{path}：无法读取文件：文件不存在"]


def test_malformed_lines_are_said_in_chinese_with_their_lines(workdir: Path) -> None:
    conf = workdir / "hotline.conf"
    text = conf.read_text(encoding="utf-8")
    conf.write_text("stray = 1\n" + text.replace("[threeway]\n", "[threeway]\n= 5\n", 1)
                    .replace("[ami]\n", "[ami]\nport = 5038\n", 1)
                    .replace("[triage]\n", "[triage]\nduplicate_similarity = 2\n", 1)
                    + "\n[oops\n[department]\n[expert 王]\nduty = 08:00-12:00\n", encoding="utf-8")
    found = _issues(conf)
    lines = conf.read_text(encoding="utf-8").splitlines()

    def at(start: str, nth: int = 0) -> int:
        return [n for n, line in enumerate(lines, 1) if line.startswith(start)][nth]

    expected = [
        "hotline.conf 第 1 行：stray：该键不在任何段内",
        f"hotline.conf 第 {at('= 5')} 行：[threeway]：“=”前面缺少键名",
        f"hotline.conf 第 {at('[department]')} 行：[department]：[department] 需要名称，例如 "
        "[department 供水集团]",
        f"hotline.conf 第 {at('[oops')} 行：段标题“[oops”格式不对，应为 [名称]",
        f"hotline.conf 第 {at('port = 5038', 1)} 行：[ami] port：重复的键（第一次设置在第 "
        f"{at('port = 5038')} 行）",
        f"hotline.conf 第 {at('[expert 王]')} 行：[expert 王] department：缺少此项：每位专家都必须填写",
        f"hotline.conf 第 {at('[expert 王]')} 行：[expert 王]：extension 与 number 须填且只填一项",
        "配置：[triage]：duplicate_similarity 必须大于 0 且不大于 1",
    ]
    for words in expected:
        assert any(words in issue for issue in found), (words, found)
    assert all(CJK.search(issue) for issue in found), found


def test_a_missing_secret_without_a_line_names_the_secrets_file(workdir: Path) -> None:
    secrets = workdir / "hotline.secrets"
    text = secrets.read_text(encoding="utf-8")
    secrets.write_text(re.sub(r"\[ami\]\nsecret = \w+", "[ami]\nsecret =", text), encoding="utf-8")
    assert f"配置：[ami] secret：缺少密钥：请在密钥文件 {secrets} 的 [ami] 段设置 secret" in _issues(
        workdir / "hotline.conf")


CLI_ERRORS = {"TokenError", "DuplicateTokenName", "TokenNotFound", "SandboxError", "SimulationError",
              "RenderError", "InstallError", "ChecksumError", "RecordingError", "SoundUnavailable"}
"""What the commands print as their refusal (`hotline: <message>`)."""
CLI_SOURCES = ("hotline", "ivr", "voicemail", "quality")
COMMAND = re.compile(r"hotline(?: [a-z][\w.-]*| --?[\w-]+)*")


def test_what_the_commands_print_and_refuse_with_is_chinese() -> None:
    """Every print of `hotline …` and every message of the errors it prints reads Chinese."""
    checked = 0
    for package in CLI_SOURCES:
        for path in sorted((REPO / package).rglob("*.py")):
            in_cli = path.parent.name == "cli"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = isinstance(node, ast.Call) and (getattr(node.func, "id", None)
                                                       or getattr(node.func, "attr", None))
                if not (name in CLI_ERRORS or (in_cli and name == "print")) or not node.args:
                    continue
                text = re.sub(r"^hotline[ a-z]*：", "", _literal(node.args[0], {}) or "")  # who speaks
                if not re.search(r"[A-Za-z\u4e00-\u9fff]", text):
                    continue  # a value printed alone (a token, a path, JSON)
                checked += 1
                where = f"{path.relative_to(REPO)}:{node.lineno}"
                assert CJK.search(text), f"{where}: {text!r} is not Chinese"
                words = COMMAND.sub("", text)  # a command to type is not English prose
                assert not ENGLISH.search(words), f"{where}: {text!r} has English words"
    assert checked >= 80


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


def test_every_command_and_option_is_explained_in_chinese() -> None:
    """`hotline … --help` is what an administrator reads first."""
    explained = 0
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            helps = [action.help] if not isinstance(action, argparse._SubParsersAction) else [
                choice.help for choice in action._choices_actions]
            for text in helps:
                explained += 1
                assert text and CJK.search(text), f"{parser.prog} {action.dest}: {text!r}"
    assert explained >= 60


def test_the_frame_argparse_adds_is_chinese_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["token", "add"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：hotline token add [-h]")
    assert "hotline token add：错误：缺少必需的参数：--role, --name" in err
    with pytest.raises(SystemExit):
        main(["sandbox", "simulate", "--seats", "x"])
    assert "错误：参数 --seats：无效的整数值 'x'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sandbox", "up", "--help"])
    shown = capsys.readouterr().out
    assert shown.startswith("用法：") and "-h, --help" in shown and "显示此帮助并退出" in shown
    assert shown.count("选项") == 1  # the shared --name/--out join the command's own section
