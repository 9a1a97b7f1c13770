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
GRAM_WEIGHT = 0.6  # character pairs shared with a department's description, examples and keywords
GRAM_K1 = 1.2  # BM25 saturation: a pair repeated in a department's text counts a little more
GRAM_B = 0.5  # BM25 length normalisation: a department described at length is not favoured
OVERLAP_MARGIN = 1.0
EXAMPLE_MAX_SHARE = 0.34  # an example word found in more than a third of departments says nothing
_WORD = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_COUNT = re.compile(r"^[\d一二两三四五六七八九十百千万几多半每整好]")  # 一个多月, 三天, 好几次
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")



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
    grams: dict[str, dict[str, int]]  # character pair -> department -> times in its text
    lengths: dict[str, int]  # department -> character pairs in its text


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
    near: set[str] = set()  # departments found by character pairs alone
    for department, (value, grams) in _gram_scores(text, hits, index).items():
        scores[department] += GRAM_WEIGHT * value
        if not words[department]:  # the reason names the pairs only when no word matched
            words[department].extend(grams)
            near.add(department)
    notes = _apply_overlaps(text, table, scores, sections, words)
    ranked = sorted((d for d in scores if scores[d] > 0), key=lambda d: (-scores[d], index.order[d]))
    return [_suggestion(d, scores[d], sections[d], words[d], notes.get(d, ""), d in near)
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


def grams_of(text: str) -> list[str]:
    """Overlapping pairs of Chinese characters, the unit that survives unseen compounds and word
    order (灌溉渠 shares 灌溉 with a description that says 农田灌溉)."""
    return [run[i:i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1)]


def _gram_scores(text: str, hits: list[str], index: _Index) -> dict[str, tuple[float, list[str]]]:
    """BM25 of the message's character pairs against each department's own text.

    Pairs inside a matched keyword are left to the keyword; pairs of generic complaint words (the
    table's ignore list) are dropped first.
    """
    for word in (*hits, *index.ignore):
        text = text.replace(word, "|")
    pairs = set(grams_of(text))
    count = len(index.lengths)
    average = sum(index.lengths.values()) / max(1, count)
    found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for pair in pairs:
        owners = index.grams.get(pair)
        if not owners or len(owners) > count * EXAMPLE_MAX_SHARE:
            continue
        rarity = math.log(1 + (count - len(owners) + 0.5) / (len(owners) + 0.5))
        for department, times in owners.items():
            norm = GRAM_K1 * (1 - GRAM_B + GRAM_B * index.lengths[department] / average)
            found[department].append((rarity * times * (GRAM_K1 + 1) / (times + norm), pair))
    return {d: (sum(v for v, _ in parts), [p for _, p in sorted(parts, reverse=True)[:3]])
            for d, parts in found.items()}


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
                note: str, near: bool = False) -> Suggestion:
    """`near`: only character pairs matched, which the reason must not call matched words."""
    section = max(parts, key=lambda p: parts[p]) if parts else ""
    unique = tuple(dict.fromkeys(found))
    label = "相近字词（与职责说明或例句共有）：" if near else "匹配词："
    reason = label + "、".join(unique) + (f"；{note}" if note else "")
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
    grams: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    lengths: dict[str, int] = defaultdict(int)
    for department, _part, unit in units:
        for piece in (unit.about, *unit.examples, *unit.keywords):
            for word in ignore:
                piece = piece.replace(word, "|")
            for pair in grams_of(piece):
                grams[pair][department] += 1
                lengths[department] += 1
    order = {d.name: i for i, d in enumerate(table.departments)}
    return _Index(tokenizer, ignore, order, {k: dict(v) for k, v in keywords.items()},
                  {k: dict(v) for k, v in examples.items()}, {k: dict(v) for k, v in grams.items()},
                  {d.name: max(1, lengths[d.name]) for d in table.departments})
