"""Suggest the department (and section) for a citizen's words, ranked, with the words as the reason.

Pure: the same text and table always give the same answer. The text is segmented with jieba
(search mode, with every keyword of the table added to its dictionary so a remit term stays one
word); a keyword of a department counts much more than a word that only occurs in its example
sentences, and both count less the more departments share them. Known overlaps are applied last:
a message naming an overlap's word puts the winner ahead of the departments it wins over.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import jieba

from hotline.config.remit import RemitTable

KEYWORD_WEIGHT = 3.0
EXAMPLE_WEIGHT = 1.0
OVERLAP_MARGIN = 1.0
EXAMPLE_MAX_SHARE = 0.34  # an example word found in more than a third of departments says nothing
_WORD = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_COUNT = re.compile(r"^[\d一二两三四五六七八九十百千万几多半每整好]")  # 一个多月, 三天, 好几次



@dataclass(frozen=True)
class Suggestion:
    """One ranked answer: department, section ("" when none stands out), the words and why."""

    department: str
    section: str
    score: float
    words: tuple[str, ...]
    reason: str


@dataclass
class _Index:
    tokenizer: jieba.Tokenizer
    ignore: frozenset[str]  # words any complaint may hold (the table's [general] ignore)
    order: dict[str, int]
    keywords: dict[str, dict[str, set[str]]]  # keyword -> department -> sections ("" = department)
    examples: dict[str, dict[str, set[str]]]  # example word -> department -> sections


def suggest(text: str, table: RemitTable, limit: int = 3) -> list[Suggestion]:
    """Departments for `text`, best first (at most `limit`); empty when nothing in it matches."""
    if not text or not table.departments:
        return []
    index = _index(table)
    scores: dict[str, float] = defaultdict(float)
    sections: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    words: dict[str, list[str]] = defaultdict(list)
    count = len(table.departments)
    hits = keyword_hits(text, list(index.keywords))
    for word in hits:
        _credit(index.keywords[word], word, KEYWORD_WEIGHT, count, scores, sections, words)
    for word in _tokens(index.tokenizer, text, index.ignore, search=False):
        owners = index.examples.get(word, {})
        common = len(owners) > max(1, count * EXAMPLE_MAX_SHARE)
        if owners and not common and not any(word in hit for hit in hits):
            _credit(owners, word, EXAMPLE_WEIGHT, count, scores, sections, words)
    notes = _apply_overlaps(text, table, scores, sections, words)
    ranked = sorted((d for d in scores if scores[d] > 0), key=lambda d: (-scores[d], index.order[d]))
    return [_suggestion(d, scores[d], sections[d], words[d], notes.get(d, ""))
            for d in ranked[:limit]]


def keyword_hits(text: str, keywords: list[str]) -> list[str]:
    """Keywords found in the text in order of first mention; one inside a longer hit is not one."""
    spans = []
    for word in keywords:
        start = text.find(word)
        while start != -1:
            spans.append((start, start + len(word), word))
            start = text.find(word, start + 1)
    kept = [(s, e, w) for s, e, w in spans
            if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)]
    return list(dict.fromkeys(w for _, _, w in sorted(kept)))


def _credit(owners: dict[str, set[str]], word: str, weight: float, count: int,
            scores: dict[str, float], sections: dict, words: dict[str, list[str]]) -> None:
    """Add one word's weight to each department that claims it, rarer words weighing more."""
    value = weight * math.log(1 + count / len(owners))
    for department, parts in owners.items():
        scores[department] += value
        words[department].append(word)
        for part in parts - {""}:
            sections[department][part] += value


def _apply_overlaps(text: str, table: RemitTable, scores: dict[str, float], sections: dict,
                    words: dict[str, list[str]]) -> dict[str, str]:
    """Known overlaps: the winner goes ahead of the departments it wins over; the note says why."""
    notes: dict[str, str] = {}
    for overlap in table.overlaps:
        found = [w for w in overlap.words if w in text]
        if not found:
            continue
        rival = max([scores.get(o, 0.0) for o in overlap.over], default=0.0)
        scores[overlap.winner] = max(scores.get(overlap.winner, 0.0), rival) + OVERLAP_MARGIN
        words[overlap.winner].extend(found)
        if overlap.section:
            sections[overlap.winner][overlap.section] = math.inf
        lost = "、".join(overlap.over)
        notes[overlap.winner] = overlap.note or f"交叉职责“{overlap.name}”归{overlap.winner}（而非{lost}）"
    return notes


def _suggestion(department: str, score: float, parts: dict[str, float], found: list[str],
                note: str) -> Suggestion:
    section = max(parts, key=lambda p: parts[p]) if parts else ""
    unique = tuple(dict.fromkeys(found))
    reason = "匹配词：" + "、".join(unique) + (f"；{note}" if note else "")
    return Suggestion(department, section, round(score, 3), unique, reason)


def _tokens(tokenizer: jieba.Tokenizer, text: str, ignore: frozenset[str], *,
            search: bool = True) -> list[str]:
    """Content words of the text, without generic complaint words or counts and durations.

    Example sentences are cut in search mode (a compound and its parts), a message in precise
    mode, so one compound of a message is not counted as several words.
    """
    cut = tokenizer.lcut_for_search(text) if search else tokenizer.lcut(text)
    return list(dict.fromkeys(
        w for w in cut
        if len(w) >= 2 and _WORD.match(w) and w not in ignore and not _COUNT.match(w)))


@lru_cache(maxsize=8)
def _index(table: RemitTable) -> _Index:
    """Segmenter and word indexes of one table, built once per table (a table is immutable)."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    ignore = frozenset(table.ignore)
    keywords: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    units = [(d.name, "", d) for d in table.departments]
    units += [(d.name, s.name, s) for d in table.departments for s in d.sections]
    for department, part, unit in units:
        for word in unit.keywords:
            keywords[word][department].add(part)
            tokenizer.add_word(word, freq=2000)
    for overlap in table.overlaps:
        for word in overlap.words:
            tokenizer.add_word(word, freq=2000)
    examples: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for department, part, unit in units:
        for sentence in (*unit.examples, unit.about):
            for word in _tokens(tokenizer, sentence, ignore):
                examples[word][department].add(part)
    order = {d.name: i for i, d in enumerate(table.departments)}
    return _Index(tokenizer, ignore, order, {k: dict(v) for k, v in keywords.items()},
                  {k: dict(v) for k, v in examples.items()})
