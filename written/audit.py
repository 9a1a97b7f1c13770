"""The automatic audit of one written message, pure and explained in Chinese.

What an experienced manager checks before publishing and forwarding: is there substance (not
empty, not only greetings or noise), is it an advert, is it the same author repeating the same
problem (the new text contains the earlier one or is contained in it, not only an exact copy),
is the contact number real, and which department's remit covers it (``remit.suggest``, the same
suggestion voicemail uses). The audit recommends; the manager decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.config.remit import RemitTable
from remit.suggest import keyword_hits, suggest
from written.contact import check_contact

DUPLICATE_WINDOW = timedelta(hours=24)
CONTAINMENT = 0.8  # share of the shorter text's character pairs found in the longer one
MIN_SUBSTANCE_CHARS = 6  # Chinese characters left once greetings and filler are taken out
MAX_SUGGESTIONS = 3
# Greetings, thanks and filler: a message of only these says nothing.
FILLER = ("你好", "您好", "在吗", "在不在", "谢谢", "感谢", "请问", "麻烦", "测试", "试一下", "哈哈", "嗯",
          "啊", "哦", "好的", "领导", "市长")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CONTENT = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_LINK = re.compile(r"(https?://|www\.|\.com\b|\.cn\b|加微信|加V|vx|VX)", re.IGNORECASE)


@dataclass(frozen=True)
class Prior:
    """An earlier message of the same author."""

    id: int
    text: str
    written_at: datetime


@dataclass(frozen=True)
class AdvertRules:
    """From [triage] in hotline.conf: the same advert words as voicemail."""

    keywords: tuple[str, ...]
    min_hits: int
    complaint_keywords: tuple[str, ...]


def audit_message(text: str, contact: str, written_at: datetime, earlier: Sequence[Prior],
                  table: RemitTable, adverts: AdvertRules) -> dict[str, Any]:
    """Every check with its Chinese reason, the suggestions, and a one-line summary."""
    substance = _substance(text)
    advert = _advert(text, adverts)
    duplicate = _duplicate(text, written_at, earlier)
    contact_check = check_contact(contact)
    suggestions = [{"department": s.department, "section": s.section, "reason": s.reason,
                    "words": list(s.words)} for s in suggest(text, table, MAX_SUGGESTIONS)]
    result = {
        "substance": substance, "advert": advert, "duplicate": duplicate,
        "contact": {"valid": contact_check.valid, "reason": contact_check.reason},
        "suggestions": suggestions,
    }
    result["recommendation"], result["summary"] = _recommend(result)
    return result


def _substance(text: str) -> dict[str, Any]:
    stripped = text or ""
    for word in FILLER:
        stripped = stripped.replace(word, "")
    left = len(_HAN.findall(stripped)) + len(re.findall(r"[A-Za-z]{3,}", stripped))
    if not (text or "").strip():
        return {"ok": False, "reason": "留言内容为空"}
    if left < MIN_SUBSTANCE_CHARS:
        return {"ok": False, "reason": "只有问候语、客套话或无意义的字符，没有反映具体问题"}
    return {"ok": True, "reason": f"有具体内容（{len(_HAN.findall(text))}个汉字）"}


def _advert(text: str, rules: AdvertRules) -> dict[str, Any]:
    words = keyword_hits(text, list(rules.keywords))
    link = _LINK.search(text)
    complaint = keyword_hits(text, list(rules.complaint_keywords))
    hits = len(words) + (1 if link else 0)
    if hits >= rules.min_hits and not complaint:
        shown = "、".join([*words, *([link.group(0)] if link else [])])
        return {"is_advert": True, "words": words, "reason": f"含有广告用语：{shown}"}
    if words and complaint:
        return {"is_advert": False, "words": words,
                "reason": f"提到{'、'.join(words)}，但是在{'、'.join(complaint)}，不是广告"}
    return {"is_advert": False, "words": words, "reason": "未发现广告用语"}


def _pairs(text: str) -> set[str]:
    chars = "".join(_CONTENT.findall(text.lower()))
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def containment(a: str, b: str) -> float:
    """Share of the shorter text's character pairs that occur in the longer one."""
    pa, pb = _pairs(a), _pairs(b)
    if not pa or not pb:
        return 0.0
    return len(pa & pb) / min(len(pa), len(pb))


def _duplicate(text: str, written_at: datetime, earlier: Sequence[Prior]) -> dict[str, Any]:
    """The same author's message of the last 24 hours that this one contains or repeats."""
    for prior in sorted(earlier, key=lambda p: p.written_at, reverse=True):
        if abs(written_at - prior.written_at) > DUPLICATE_WINDOW:
            continue
        share = containment(text, prior.text)
        if share >= CONTAINMENT:
            hours = abs(written_at - prior.written_at).total_seconds() / 3600
            return {"of": prior.id, "share": round(share, 2),
                    "reason": f"与同一留言人{hours:.0f}小时内的第{prior.id}号留言重复"
                              f"（{share:.0%}的内容相同）"}
    return {"of": None, "share": 0.0, "reason": "24小时内没有同一留言人的相同留言"}


def _recommend(result: dict[str, Any]) -> tuple[str, str]:
    """approve, transfer or return, and one Chinese sentence saying why."""
    problems = []
    if not result["substance"]["ok"]:
        problems.append(result["substance"]["reason"])
    if result["advert"]["is_advert"]:
        problems.append(result["advert"]["reason"])
    if result["duplicate"]["of"] is not None:
        problems.append(result["duplicate"]["reason"])
    if problems:
        return "return", "建议退回：" + "；".join(problems)
    contact = result["contact"]
    note = "" if contact["valid"] else f"（注意：联系电话无效，{contact['reason']}）"
    if result["suggestions"]:
        best = result["suggestions"][0]
        where = best["department"] + (f"{best['section']}" if best["section"] else "")
        return "transfer", f"建议转办{where}：{best['reason']}{note}"
    return "approve", f"建议审核通过，未匹配到具体部门，请人工判断{note}"
