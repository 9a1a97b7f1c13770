"""The held-out messages stay unseen: nothing in remit.conf copies or nearly copies one of them.

`python bench/routing.py` reports its last line on tests/remit/heldout.tsv, written after the table
was frozen. That figure means something only while no example sentence or duty statement of the
table is (nearly) one of those messages: an administrator who pastes a held-out message into the
table as an example makes this test fail, and then a new held-out set has to be written.
"""

from __future__ import annotations

import csv
import difflib
import re
from pathlib import Path

import pytest

from hotline.config.remit import RemitTable, load_remit

REPO = Path(__file__).resolve().parents[2]
HELDOUT = REPO / "tests" / "remit" / "heldout.tsv"
SIMILAR_RATIO = 0.6  # difflib ratio; a pasted message with a clause added scores about 0.87
SIMILAR_PAIRS = 0.45  # shared share of character pairs, which word order does not hide
CLAUSE = re.compile(r"[；;。]")


def heldout_rows() -> list[dict[str, str]]:
    lines = [line for line in HELDOUT.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def table_sentences(table: RemitTable) -> list[str]:
    """Every sentence the table holds: examples, and the duty statements clause by clause."""
    units = [u for d in table.departments for u in (d, *d.sections)]
    sentences = [e for u in units for e in u.examples]
    sentences += [c for u in units for c in (u.about, *CLAUSE.split(u.about)) if c]
    sentences += [o.note for o in table.overlaps if o.note]
    return sentences


def pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def near(a: str, b: str) -> bool:
    """The same sentence, a copy with a few words changed, or the same words reordered."""
    if a in b or b in a:
        return True
    shared = len(pairs(a) & pairs(b)) / max(1, len(pairs(a) | pairs(b)))
    if shared >= SIMILAR_PAIRS:
        return True
    matcher = difflib.SequenceMatcher(None, a, b)  # the cheap upper bounds first
    return (matcher.real_quick_ratio() >= SIMILAR_RATIO and matcher.quick_ratio() >= SIMILAR_RATIO
            and matcher.ratio() >= SIMILAR_RATIO)


@pytest.fixture(scope="module")
def table() -> RemitTable:
    return load_remit(REPO / "remit.conf")


def test_no_heldout_message_is_nearly_a_sentence_of_the_table(table: RemitTable) -> None:
    sentences = table_sentences(table)
    copied = [(row["text"], s) for row in heldout_rows() for s in sentences if near(row["text"], s)]
    assert copied == []


def test_the_check_catches_a_pasted_or_reworded_copy() -> None:
    assert near("租房提取公积金需要什么材料", "租房能不能提取公积金，需要什么材料")
    assert near("路口的红绿灯坏了，车辆乱成一团", "车辆乱成一团，路口的红绿灯坏了")
    assert not near("快递三天了还在中转站，物流信息一直不更新", "快递员不送货上门，也不打电话就直接放驿站")


def test_the_heldout_set_is_large_varied_and_crosses_remits(table: RemitTable) -> None:
    rows = heldout_rows()
    assert len(rows) >= 150
    assert {r["split"] for r in rows} == {"heldout"}
    assert len({r["department"] for r in rows}) >= 12
    assert {r["department"] for r in rows} <= set(table.names)
    crossed = [r for r in rows if r["left_with"] and r["left_with"] != r["department"]]
    assert len(crossed) >= 20
    assert {r["contact_valid"] for r in rows} == {"true", "false"}
    assert len({r["text"] for r in rows}) == len(rows)


def test_no_heldout_message_repeats_one_of_the_development_set() -> None:
    lines = (REPO / "tests" / "remit" / "labelled.tsv").read_text(encoding="utf-8").splitlines()
    seen = [r["text"] for r in csv.DictReader([x for x in lines if not x.startswith("#")], delimiter="\t")]
    assert [(r["text"], s) for r in heldout_rows() for s in seen if near(r["text"], s)] == []
