"""CSV and XLSX files as the hall receives them: encodings, headers in any order, refusals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from written.importer import ImportRefused, read_file

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_gb18030_csv_from_excel_reads_with_local_times() -> None:
    text = ("留言内容,留言人,渠道,联系电话,留言时间\n"
            "路灯坏了一个月,陈先生,市长信箱,0571-87023456,2026/12/02 08:00\n")
    [message] = read_file(text.encode("gb18030"), "csv", SHANGHAI)
    assert (message.channel, message.author, message.text) == ("市长信箱", "陈先生", "路灯坏了一个月")
    assert message.written_at == datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)
    assert message.left_with is None


def test_blank_rows_are_skipped_and_a_zone_in_the_file_is_kept() -> None:
    text = ("channel,author,contact,text,written_at\n,,,,\n"
            "网上民声,Li,13912873456,停水了,2026-12-02T08:00:00+00:00\n")
    [message] = read_file(text.encode(), "csv", SHANGHAI)
    assert message.written_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(("data", "kind", "problem"), [
    (b"", "csv", "文件是空的"),
    (b"PK\x03\x04broken", "csv", "无法读取 XLSX 文件"),
    ("渠道,留言人\n".encode(), "csv", "第1行（表头）缺少列：联系电话、留言内容、留言时间"),
    ("渠道,留言人,联系电话,留言内容,留言时间\n网上民声,,1,内容,2026-12-02 08:00\n".encode(), "csv",
     "第2行：缺少留言人"),
    (b"\xff\xfe\x00\xd8", "csv", "既不是 UTF-8 也不是 GB18030"),
])
def test_bad_files_are_refused_with_the_row(data: bytes, kind: str, problem: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        read_file(data, kind, SHANGHAI)
    assert problem in refused.value.problems[0]
