"""The department suggestion on the shipped remit table: ranking, sections, reasons, overlaps."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hotline.config.remit import RemitTable, load_remit
from remit.suggest import suggest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def table() -> RemitTable:
    return load_remit(REPO / "remit.conf")


def test_open_air_barbecue_goes_to_city_management_even_when_it_speaks_of_fumes(table: RemitTable) -> None:
    ranked = suggest("小区外面每天晚上都有露天烧烤，油烟污染太严重了", table)
    assert [s.department for s in ranked[:2]] == ["城市管理局", "生态环境局"]
    best = ranked[0]
    assert best.section == "综合执法支队"
    assert "露天烧烤" in best.words and "露天烧烤" in best.reason and "生态环境局" in best.reason
    assert ranked[1].words == ("油烟", "污染")


def test_a_restaurant_s_fumes_stay_with_the_environment_bureau(table: RemitTable) -> None:
    assert suggest("楼下饭店的油烟直接排到我家窗户，没有油烟净化器", table)[0].department == "生态环境局"


def test_a_wrong_road_name_sign_goes_to_the_road_naming_section(table: RemitTable) -> None:
    best = suggest("路口的路名牌把解放路写成了解放街", table)[0]
    assert (best.department, best.section) == ("民政局", "区划地名科")
    assert best.reason.startswith("匹配词：路名牌")


def test_a_traffic_light_is_the_traffic_police_not_the_transport_bureau(table: RemitTable) -> None:
    best = suggest("学校门口的交通信号灯时间太短", table)[0]
    assert (best.department, best.section) == ("公安局", "交通警察支队")


def test_a_trapped_lift_is_special_equipment_an_added_lift_is_housing(table: RemitTable) -> None:
    assert suggest("电梯困人半小时，物业没人管", table)[0].department == "市场监督管理局"
    assert suggest("老小区想加装电梯，怎么申请", table)[0].department == "住房和城乡建设局"


def test_runners_up_are_ranked_and_limited(table: RemitTable) -> None:
    ranked = suggest("物业不管，小区停水停电", table, limit=3)
    assert len(ranked) == 3
    assert ranked[0].score >= ranked[1].score >= ranked[2].score
    assert {s.department for s in ranked} == {"住房和城乡建设局", "供水集团", "供电公司"}


def test_words_found_are_in_the_text_so_the_page_can_highlight_them(table: RemitTable) -> None:
    text = "公司拖欠我们三个月工资，老板电话也不接"
    for suggestion in suggest(text, table):
        assert suggestion.words and all(word in text for word in suggestion.words)


def test_nothing_matching_gives_no_suggestion(table: RemitTable) -> None:
    assert suggest("你好，谢谢", table) == []
    assert suggest("", table) == []


def test_the_labelled_set_covers_twelve_departments_and_the_overlaps() -> None:
    lines = (REPO / "tests" / "remit" / "labelled.tsv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader([line for line in lines if not line.startswith("#")], delimiter="\t"))
    assert len(rows) >= 150
    assert len({r["department"] for r in rows}) >= 12
    assert {r["split"] for r in rows} == {"tune", "held", "fresh", "fresh2", "fresh3", "val"}
    crossed = [r for r in rows if r["left_with"] and r["left_with"] != r["department"]]
    assert len(crossed) >= 20
    assert any("烧烤" in r["text"] and r["left_with"] == "生态环境局" for r in crossed)
    assert {r["contact_valid"] for r in rows} == {"true", "false"}


def test_a_remit_found_by_character_pairs_alone_says_so(table: RemitTable) -> None:
    """No keyword or example word of the 邮政管理局 is in this text; the pair 寄的 (its example says
    寄的东西) still ranks it first, and the reason calls such pairs near words, not matched ones."""
    text = "给外婆寄的年货半路上不见了"
    best = suggest(text, table)[0]
    assert best.department == "邮政管理局"
    assert best.reason.startswith("相近字词") and "匹配词" not in best.reason
    assert "寄的" in best.words and all(word in text for word in best.words)
