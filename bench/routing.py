"""Department suggestion and contact check, measured on messages the remit table never saw.

Run by hand:

    .venv/bin/python bench/routing.py [--table remit.conf] [--labelled tests/remit/labelled.tsv]
                                      [--heldout tests/remit/heldout.tsv] [--show-misses SPLIT]

Every message is routed by ``remit.suggest.suggest`` against the remit table, and its contact
number checked by ``written.contact.check_contact``. In the same run a baseline routes the same
messages by plain keyword counting (the voicemail's suggestion before the remit table: the
department whose keywords occur most often), so the ratio says what segmentation, examples,
character pairs and overlaps add. The segmenter is built before timing starts.

Two sets. The development set (tests/remit/labelled.tsv, one line per split: tune, held, fresh,
fresh2, fresh3, val) was read while the table was written: every split was measured once on the
table of its day and then used to widen it (its first line says how), so its figures are not
unseen figures. The held-out set (tests/remit/heldout.tsv) was written after the table was frozen
and never used to change it; tests/remit/test_remit_heldout.py checks that no sentence of the table
nearly copies one of its messages. The last line is the held-out set's:

    messages=N top1=… top3=… contact_precision=… ms_per_message=…

contact_precision: of the numbers flagged as false, the share that are false (recall is printed too).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.config.remit import RemitTable, load_remit  # noqa: E402
from remit.suggest import keyword_hits, suggest  # noqa: E402
from written.contact import check_contact  # noqa: E402

SPLITS = ("tune", "held", "fresh", "fresh2", "fresh3", "val", "heldout")


@dataclass(frozen=True)
class Labelled:
    split: str
    department: str
    left_with: str
    contact: str
    contact_valid: bool
    text: str


def read_labelled(path: Path) -> list[Labelled]:
    """The labelled set: a TSV with one header line after the comment line."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    return [Labelled(r["split"], r["department"], r["left_with"], r["contact"],
                     r["contact_valid"] == "true", r["text"]) for r in rows]


def baseline(text: str, table: RemitTable) -> list[str]:
    """Plain keyword counting, configuration order breaking ties (the former voicemail rule)."""
    scored = []
    for i, department in enumerate(table.departments):
        words = department.keywords + tuple(w for s in department.sections for w in s.keywords)
        count = len(keyword_hits(text, list(dict.fromkeys(words))))
        if count:
            scored.append((-count, i, department.name))
    return [name for _, _, name in sorted(scored)]


def score(rows: list[Labelled], ranked: list[list[str]]) -> tuple[float, float]:
    top1 = sum(1 for r, got in zip(rows, ranked, strict=True) if got[:1] == [r.department])
    top3 = sum(1 for r, got in zip(rows, ranked, strict=True) if r.department in got[:3])
    return top1 / len(rows), top3 / len(rows)


def contact_figures(rows: list[Labelled]) -> tuple[float, float]:
    """Precision and recall of 'this number is false'."""
    flagged = [r for r in rows if not check_contact(r.contact).valid]
    false = [r for r in rows if not r.contact_valid]
    hits = sum(1 for r in flagged if not r.contact_valid)
    return (hits / len(flagged) if flagged else 1.0), (hits / len(false) if false else 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=ROOT / "remit.conf")
    parser.add_argument("--labelled", type=Path, default=ROOT / "tests" / "remit" / "labelled.tsv")
    parser.add_argument("--heldout", type=Path, default=ROOT / "tests" / "remit" / "heldout.tsv")
    parser.add_argument("--show-misses", choices=(*SPLITS, "none"), default="none")
    args = parser.parse_args()
    table = load_remit(args.table)
    rows = read_labelled(args.labelled) + read_labelled(args.heldout)
    suggest("预热", table)  # build the segmenter outside the timing
    started = time.perf_counter()
    ranked = [[s.department for s in suggest(r.text, table)] for r in rows]
    ms = (time.perf_counter() - started) * 1000 / len(rows)
    started = time.perf_counter()
    plain = [baseline(r.text, table) for r in rows]
    base_ms = (time.perf_counter() - started) * 1000 / len(rows)
    for split in SPLITS:
        chosen = [i for i, r in enumerate(rows) if r.split == split]
        t1, t3 = score([rows[i] for i in chosen], [ranked[i] for i in chosen])
        b1, _ = score([rows[i] for i in chosen], [plain[i] for i in chosen])
        print(f"split={split} messages={len(chosen)} top1={t1:.3f} top3={t3:.3f} baseline_top1={b1:.3f}")
        if args.show_misses == split:
            for i in chosen:
                if ranked[i][:1] != [rows[i].department]:
                    print(f"  miss: {rows[i].department} <- {ranked[i]} {rows[i].text}")
    seen = [i for i, r in enumerate(rows) if r.split != "heldout"]
    top1, top3 = score([rows[i] for i in seen], [ranked[i] for i in seen])
    print(f"development set (seen while writing the table): messages={len(seen)} top1={top1:.3f} "
          f"top3={top3:.3f}")
    unseen = [i for i, r in enumerate(rows) if r.split == "heldout"]
    held = [rows[i] for i in unseen]
    top1, top3 = score(held, [ranked[i] for i in unseen])
    base1, base3 = score(held, [plain[i] for i in unseen])
    precision, recall = contact_figures(held)
    all_precision, all_recall = contact_figures(rows)
    print(f"baseline(keyword counting, held-out) top1={base1:.3f} top3={base3:.3f} "
          f"ms_per_message={base_ms:.3f}; top1_ratio={top1 / base1 if base1 else 0:.2f} "
          f"time_ratio={ms / base_ms if base_ms else 0:.1f}")
    print(f"contact_recall={recall:.3f} departments={len({r.department for r in held})} "
          f"all_sets_contact_precision={all_precision:.3f} all_sets_contact_recall={all_recall:.3f}")
    print(f"messages={len(held)} top1={top1:.3f} top3={top3:.3f} contact_precision={precision:.3f} "
          f"ms_per_message={ms:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
