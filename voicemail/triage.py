"""Valid, invalid or needs-review: the rules that sort a night's voicemail, pure and explained.

A real citizen request must never be discarded silently. "Invalid" therefore rests either on the
audio itself (silence, a hang-up at the beep, only tones, only steady noise, no speech at all) or
on clear rules applied to a transcript that can be trusted (Chinese, long enough for the speech
heard): adverts, duplicates, no way to call back. Anything in between is needs-review, with the
reason. The model may not be Chinese at all (the Korean stand-in writes confident nonsense), so a
transcript that is not Chinese is never evidence against a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from hotline.config.remit import RemitTable
from hotline.config.triage import TriageSettings
from remit.suggest import suggest
from voicemail.audio_analysis import AudioFeatures, voice_distance
from voicemail.numbers import PhoneNumber, normalise_caller, scan_numbers
from voicemail.transcribe import Transcript

CLIPPING_NOTE_RATIO = 0.01
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CONTENT = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_ASCII_WORD = re.compile(r"[A-Za-z]")


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    NEEDS_REVIEW = "needs_review"


class Priority(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


class ReasonCode(StrEnum):
    # Each of these alone makes a message invalid.
    SILENCE = "silence"
    HANGUP_AT_BEEP = "hangup_at_beep"
    TONES_ONLY = "tones_only"
    NOISE_ONLY = "noise_only"
    NO_SPEECH = "no_speech"
    ADVERT = "advert"
    DUPLICATE = "duplicate"
    NO_CALLBACK_NUMBER = "no_callback_number"
    # Each of these sends a message to a person.
    AUDIO_UNREADABLE = "audio_unreadable"
    LITTLE_SPEECH = "little_speech"
    NO_TRANSCRIPT = "no_transcript"
    TRANSCRIPT_UNUSABLE = "transcript_unusable"
    NUMBER_UNCLEAR = "number_unclear"
    CALLER_NUMBER_INVALID = "caller_number_invalid"
    ADVERT_OR_COMPLAINT = "advert_or_complaint"
    URGENT_NOT_DISCARDED = "urgent_not_discarded"
    # Information only.
    SPEECH = "speech"
    CALLBACK = "callback"
    DEPARTMENT = "department"
    URGENT = "urgent"
    ADVERT_WORD = "advert_word"
    DTMF = "dtmf"
    CLIPPING = "clipping"
    SUPERSEDES = "supersedes"


# A message with real speech is never invalid for lack of a number: NO_CALLBACK_NUMBER sends it to
# a person (who may hear a number the recogniser missed).
INVALID_CODES = frozenset({ReasonCode.SILENCE, ReasonCode.HANGUP_AT_BEEP, ReasonCode.TONES_ONLY,
                           ReasonCode.NOISE_ONLY, ReasonCode.NO_SPEECH, ReasonCode.ADVERT,
                           ReasonCode.DUPLICATE})
REVIEW_CODES = frozenset({ReasonCode.AUDIO_UNREADABLE, ReasonCode.LITTLE_SPEECH, ReasonCode.NO_TRANSCRIPT,
                          ReasonCode.TRANSCRIPT_UNUSABLE, ReasonCode.NUMBER_UNCLEAR,
                          ReasonCode.CALLER_NUMBER_INVALID, ReasonCode.ADVERT_OR_COMPLAINT,
                          ReasonCode.URGENT_NOT_DISCARDED, ReasonCode.NO_CALLBACK_NUMBER})


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    detail: str = ""


@dataclass(frozen=True)
class TriageInput:
    """The message being judged."""

    message_id: str
    received_at: datetime


@dataclass(frozen=True)
class PriorMessage:
    """An earlier message, for duplicate detection (the caller's recent messages are enough)."""

    message_id: str
    callback_number: str | None  # the number it would be called back on (caller id or spoken)
    received_at: datetime
    speech_s: float
    transcript_text: str
    verdict: str
    duplicate_of: str | None = None
    speech_print: tuple[tuple[int, ...], ...] = ()  # AudioFeatures.speech_print, for acoustic duplicates
    withheld: bool = False  # the caller id was withheld (matched by voice, or by the number spoken)
    transcript_trusted: bool = True  # its transcript passed transcript_problem


@dataclass(frozen=True)
class TriageDecision:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    explanation_zh: str
    callback_number: str | None = None
    callback_source: str | None = None  # "caller_id" or "spoken"
    spoken_numbers: tuple[PhoneNumber, ...] = ()
    department: str | None = None
    priority: Priority = Priority.NORMAL
    duplicate_of: str | None = None
    # Earlier messages this fuller one replaces: mark them duplicates of this message.
    supersedes: tuple[str, ...] = field(default=())

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code.value for r in self.reasons)


# ---------------------------------------------------------------- text helpers


def keyword_hits(text: str, keywords: Sequence[str]) -> list[str]:
    """Keywords found in the text, each counted once; one inside a longer hit (退订 in 回复退订) is not."""
    spans = []
    for word in dict.fromkeys(k for k in keywords if k):
        for match in re.finditer(re.escape(word), text, flags=re.IGNORECASE):
            spans.append((match.start(), match.end(), word))
    kept = {word for start, end, word in spans
            if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)}
    return [word for word in dict.fromkeys(w for _, _, w in spans) if word in kept]


def bigram_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of two texts (punctuation and spaces ignored)."""
    grams_a, grams_b = _bigrams(a), _bigrams(b)
    if not grams_a or not grams_b:
        return 0.0
    return len(grams_a & grams_b) / len(grams_a | grams_b)


def bigram_containment(a: str, b: str) -> float:
    """Share of the shorter text's bigrams found in the longer one: a short repeat scores high."""
    grams_a, grams_b = _bigrams(a), _bigrams(b)
    if not grams_a or not grams_b:
        return 0.0
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b))


def _bigrams(text: str) -> set[str]:
    chars = "".join(_CONTENT.findall(text.lower()))
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def suggest_department(text: str, remit: RemitTable) -> tuple[str | None, str]:
    """The department the remit table suggests and why: the same suggestion as the written channels."""
    ranked = suggest(text, remit)
    if not ranked:
        return None, ""
    best = ranked[0]
    detail = best.department + (f"/{best.section}" if best.section else "") + f"（{best.reason}）"
    if len(ranked) > 1:
        detail += "；其次：" + "、".join(s.department for s in ranked[1:])
    return best.department, detail


# ---------------------------------------------------------------- the rules


def _audio_verdict(features: AudioFeatures, s: TriageSettings) -> Reason | None:
    """An invalid reason from the audio alone, or None when there may be a request in it."""
    duration = features.duration_s
    if features.beep_at_start and (features.noise_only or features.tone_only
                                   or features.speech_s < s.min_speech_s):
        return Reason(ReasonCode.HANGUP_AT_BEEP, f"beep, then {duration:.1f} s without speech")
    if features.silent:
        if duration <= s.hangup_max_s:
            return Reason(ReasonCode.HANGUP_AT_BEEP, f"{duration:.1f} s, no sound")
        return Reason(ReasonCode.SILENCE, f"{duration:.1f} s of silence")
    if features.noise_only:
        return Reason(ReasonCode.NOISE_ONLY, f"noise, level spread {features.level_spread_db:.1f} dB, "
                                             f"{features.events_s:.1f} s standing out, "
                                             f"{features.syllabic_s:.1f} s at syllable rate")
    if features.speech_s >= s.min_speech_s:
        return None
    if features.tone_only:
        return Reason(ReasonCode.TONES_ONLY, _tone_detail(features))
    if duration <= s.hangup_max_s:
        return Reason(ReasonCode.HANGUP_AT_BEEP, f"{duration:.1f} s, {features.speech_s:.1f} s speech")
    if features.speech_s < s.no_speech_s:
        return Reason(ReasonCode.NO_SPEECH, f"{features.active_s:.1f} s of sound, no speech")
    return None


def needs_transcript(features: AudioFeatures | None, settings: TriageSettings) -> bool:
    """False when the audio alone decides (silence, tones, noise, a hang-up) or cannot be read."""
    return features is not None and _audio_verdict(features, settings) is None


TONE_NAMES_ZH = (("fax", "传真音"), ("busy", "忙音"), ("ringback", "回铃音"), ("dial", "拨号音"),
                 ("sit", "空号或故障提示音"), ("beep", "提示音"))


def _tone_detail(features: AudioFeatures) -> str:
    """The tones heard, in Chinese (this detail is shown as it is)."""
    heard = set(features.tones)
    parts = [f"按键音 {features.dtmf_digits}"] if features.dtmf_digits else []
    parts += [zh for name, zh in TONE_NAMES_ZH if name in heard]
    return "、".join(parts) or f"信号音 {features.tone_s:.1f} 秒"


def transcript_problem(transcript: Transcript | None, speech_s: float, s: TriageSettings) -> str | None:
    """Why the words cannot be trusted for content rules, or None when they can."""
    if transcript is None:
        return "not transcribed"
    if not transcript.text.strip():
        return f"empty transcript for {speech_s:.1f} s of speech"
    if transcript.language_hint != "zh":
        return f"transcript is not Chinese ({transcript.language_hint}): the speech model is not Chinese"
    chars = han_count(transcript.text)
    if chars < s.min_transcript_chars or chars < s.min_chars_per_speech_s * speech_s:
        return f"only {chars} characters for {speech_s:.1f} s of speech"
    if transcript.words and transcript.mean_confidence < s.min_transcript_confidence:
        return f"low recogniser confidence {transcript.mean_confidence:.2f}"
    return None


def _same_caller(prior: PriorMessage, callback: str | None, withheld: bool) -> bool:
    """Same number to call back; or both withheld with no number at all (then only the voice tells)."""
    if callback is not None:
        number = normalise_caller(prior.callback_number) if prior.callback_number else None
        return number is not None and number.digits == callback
    return withheld and prior.withheld and prior.callback_number is None


def _likeness(prior: PriorMessage, text: str, speech_print: Sequence[Sequence[int]],
              s: TriageSettings) -> str | None:
    """Why the prior message says the same as this one, or None.

    Two trusted transcripts decide by containment (a short repeat lies inside the fuller one);
    otherwise the voices are compared, so duplicates are found whatever the model.
    """
    if text and prior.transcript_trusted and han_count(prior.transcript_text) >= s.min_transcript_chars:
        score = bigram_containment(text, prior.transcript_text)
        return f"transcript containment {score:.2f}" if score >= s.duplicate_similarity else None
    if min(len(speech_print), len(prior.speech_print)) < s.duplicate_min_print_frames:
        return None
    distance = voice_distance(speech_print, prior.speech_print)
    if distance is None or distance > s.duplicate_voice_distance:
        return None
    return f"voice distance {distance:.0f}"


def _duplicates(message: TriageInput, callback: str | None, withheld: bool, features: AudioFeatures,
                text: str, history: Sequence[PriorMessage], s: TriageSettings,
                ) -> tuple[str | None, tuple[str, ...], str]:
    """(duplicate_of, supersedes, detail): the same caller saying the same within the window."""
    similar = []
    for prior in history:
        if prior.message_id == message.message_id or not _same_caller(prior, callback, withheld):
            continue
        if abs(message.received_at - prior.received_at) > s.duplicate_window:
            continue
        if prior.verdict == Verdict.INVALID and prior.duplicate_of is None:
            continue  # an advert or an empty message is nothing to keep
        why = _likeness(prior, text, features.speech_print, s)
        if why is not None:
            similar.append((prior, why))
    if not similar:
        return None, (), ""
    fullest, why = max(similar, key=lambda pw: (pw[0].speech_s, -pw[0].received_at.timestamp()))
    if features.speech_s > fullest.speech_s:
        ids = tuple(dict.fromkeys(p.message_id for p, _ in similar))
        return None, ids, f"fuller than {', '.join(ids)}"
    keep = fullest.duplicate_of or fullest.message_id
    return keep, (), f"{keep}: same caller, {why}, {fullest.speech_s:.1f} s speech kept"


def _callback(caller_number: str | None, spoken: Sequence[PhoneNumber]) -> tuple[str | None, str | None]:
    """The number to call back: the caller id when it is callable, else the first number spoken."""
    caller = normalise_caller(caller_number)
    if caller is not None:
        return caller.digits, "caller_id"
    if spoken:
        return spoken[0].digits, "spoken"
    return None, None


def _advert_rules(text: str, s: TriageSettings) -> tuple[list[Reason], list[Reason]]:
    """Adverts on a trusted transcript: (invalid reasons, other reasons)."""
    adverts = keyword_hits(text, s.advert_keywords)
    complaint = keyword_hits(text, s.complaint_keywords)
    if len(adverts) >= s.advert_min_hits and complaint:
        return [], [Reason(ReasonCode.ADVERT_OR_COMPLAINT,
                           f"advert words {'、'.join(adverts)} with {'、'.join(complaint)}")]
    if len(adverts) >= s.advert_min_hits:
        return [Reason(ReasonCode.ADVERT, "、".join(adverts))], []
    if adverts:
        return [], [Reason(ReasonCode.ADVERT_WORD, "、".join(adverts))]
    return [], []


def _speech_notes(features: AudioFeatures, s: TriageSettings) -> list[Reason]:
    """What the audio says about a message with speech."""
    reasons = [Reason(ReasonCode.SPEECH, f"{features.speech_s:.1f} s in {features.duration_s:.1f} s")]
    if features.speech_s < s.min_speech_s:
        reasons.append(Reason(ReasonCode.LITTLE_SPEECH, f"{features.speech_s:.1f} s of speech"))
    if features.dtmf_digits:
        reasons.append(Reason(ReasonCode.DTMF, features.dtmf_digits))
    if features.clipping_ratio >= CLIPPING_NOTE_RATIO:
        reasons.append(Reason(ReasonCode.CLIPPING, f"{features.clipping_ratio:.1%} of samples clipped"))
    return reasons


def _missing_number(caller_number: str | None, unclear: Sequence[str]) -> Reason:
    """Why there is no number to call back; each of these sends the message to a person."""
    if caller_number:
        return Reason(ReasonCode.CALLER_NUMBER_INVALID, f"caller id {caller_number!r}")
    if unclear:
        return Reason(ReasonCode.NUMBER_UNCLEAR, "digits heard: " + ", ".join(unclear))
    return Reason(ReasonCode.NO_CALLBACK_NUMBER, "caller id withheld, no number spoken")


def triage(message: TriageInput, features: AudioFeatures | None, transcript: Transcript | None,
           caller_number: str | None, history: Sequence[PriorMessage], settings: TriageSettings,
           remit: RemitTable) -> TriageDecision:
    """Judge one message. `caller_number` is None when the caller id was withheld.

    `history` holds earlier messages (at least those of the same caller within the duplicate
    window, and withheld ones); when the decision `supersedes` some, mark those duplicates of it.
    """
    s = settings
    if features is None:
        callback, source = _callback(caller_number, ())
        return _decide([Reason(ReasonCode.AUDIO_UNREADABLE, "the recording could not be analysed")], None,
                       callback, source)
    audio_reason = _audio_verdict(features, s)
    if audio_reason is not None:
        return _decide([audio_reason], features)
    # Chinese words are worth reading even when too few to judge by: urgency, remit, numbers.
    text = transcript.text if transcript is not None and transcript.language_hint == "zh" else ""
    urgent_words = keyword_hits(text, s.urgent_keywords)
    department, department_detail = suggest_department(text, remit)
    reasons = [*_speech_notes(features, s),
               *([Reason(ReasonCode.URGENT, "、".join(urgent_words))] if urgent_words else []),
               *([Reason(ReasonCode.DEPARTMENT, department_detail)] if department else [])]
    scan = scan_numbers(text)
    callback, source = _callback(caller_number, scan.numbers)
    if callback:
        others = ", ".join(n.digits for n in scan.numbers if n.digits != callback)
        also = f"; also said {others}" if others else ""
        reasons.append(Reason(ReasonCode.CALLBACK, f"{callback} ({source}){also}"))
    problem = transcript_problem(transcript, features.speech_s, s)
    invalid: list[Reason] = []
    if problem is not None:
        code = ReasonCode.NO_TRANSCRIPT if transcript is None else ReasonCode.TRANSCRIPT_UNUSABLE
        reasons.append(Reason(code, problem))
    else:
        invalid, notes = _advert_rules(text, s)
        reasons.extend(notes)
    duplicate_of, supersedes, detail = _duplicates(message, callback, caller_number is None, features,
                                                   text if problem is None else "", history, s)
    if duplicate_of:
        invalid.append(Reason(ReasonCode.DUPLICATE, detail))
    elif supersedes:
        reasons.append(Reason(ReasonCode.SUPERSEDES, detail))
    if callback is None:
        reasons.append(_missing_number(caller_number, scan.unclear))
    # Urgent words keep a message in front of a person, unless a fuller copy of it is kept anyway.
    decisive = bool(invalid)
    if urgent_words and any(r.code != ReasonCode.DUPLICATE for r in invalid):
        reasons.append(Reason(ReasonCode.URGENT_NOT_DISCARDED, "、".join(urgent_words)))
        decisive = False
    return _decide([*invalid, *reasons], features, callback, source, scan.numbers, department,
                   Priority.URGENT if urgent_words else Priority.NORMAL, duplicate_of, supersedes,
                   decisive=decisive)


def _decide(reasons: Sequence[Reason], features: AudioFeatures | None, callback: str | None = None,
            source: str | None = None, spoken: Sequence[PhoneNumber] = (), department: str | None = None,
            priority: Priority = Priority.NORMAL, duplicate_of: str | None = None,
            supersedes: tuple[str, ...] = (), *, decisive: bool = True) -> TriageDecision:
    """The verdict from the reasons: any decisive invalid reason, else any review reason, else valid."""
    if decisive and any(r.code in INVALID_CODES for r in reasons):
        verdict = Verdict.INVALID
    elif any(r.code in REVIEW_CODES for r in reasons):
        verdict = Verdict.NEEDS_REVIEW
    else:
        verdict = Verdict.VALID
    if verdict == Verdict.INVALID:  # nothing to route or to keep in place of another message
        department, priority, supersedes = None, Priority.NORMAL, ()
    decision = TriageDecision(verdict, tuple(reasons), "", callback, source, tuple(spoken), department,
                              priority, duplicate_of if verdict == Verdict.INVALID else None, supersedes)
    return replace(decision, explanation_zh=explain_zh(decision, features))


# ---------------------------------------------------------------- the line for the morning staff

INVALID_REASON_ZH = {
    ReasonCode.SILENCE: "录音全程静音",
    ReasonCode.HANGUP_AT_BEEP: "提示音后即挂机",
    ReasonCode.TONES_ONLY: "只有信号音（按键音、传真音、忙音等），没有人声",
    ReasonCode.NOISE_ONLY: "只有噪声，没有说话的音节起伏",
    ReasonCode.NO_SPEECH: "录音中没有人声",
    ReasonCode.ADVERT: "广告推销",
    ReasonCode.DUPLICATE: "重复留言",
}
# Why a transcript is unusable, by the start of the reason's detail.
_TRANSCRIPT_ZH = (("empty", "转写为空"), ("not Chinese", "识别模型不是中文"), ("only", "转写字数太少"),
                  ("low", "识别置信度低"))
REVIEW_REASON_ZH = {
    ReasonCode.AUDIO_UNREADABLE: "录音文件无法分析",
    ReasonCode.LITTLE_SPEECH: "人声很少",
    ReasonCode.NO_TRANSCRIPT: "尚未转写",
    ReasonCode.TRANSCRIPT_UNUSABLE: "有人声但转写不可用",
    ReasonCode.NUMBER_UNCLEAR: "留言中的号码不完整",
    ReasonCode.CALLER_NUMBER_INVALID: "来电号码无法回拨",
    ReasonCode.ADVERT_OR_COMPLAINT: "含广告词，但可能是投诉",
    ReasonCode.URGENT_NOT_DISCARDED: "含紧急词，不自动作废",
    ReasonCode.NO_CALLBACK_NUMBER: "来电号码隐藏，未听出回拨号码",
}


def _review_zh(reason: Reason) -> str:
    text = REVIEW_REASON_ZH[reason.code]
    if reason.code == ReasonCode.TRANSCRIPT_UNUSABLE:
        why = next((zh for key, zh in _TRANSCRIPT_ZH if key in reason.detail), "")
        text += f"（{why}）" if why else ""
    return text


INFO_REASON_ZH = {
    ReasonCode.SPEECH: "有人声",
    ReasonCode.CALLBACK: "有回拨号码",
    ReasonCode.DEPARTMENT: "建议转办",
    ReasonCode.URGENT: "含紧急词",
    ReasonCode.ADVERT_WORD: "含广告词",
    ReasonCode.DTMF: "有按键音",
    ReasonCode.CLIPPING: "录音削波失真",
    ReasonCode.SUPERSEDES: "并入了同号码较短的相似留言",
}
# Reasons whose detail is already Chinese words (keywords, tones, the remit's suggestion) and worth
# reading after the label; the others' details are figures for the log and the API.
_DETAIL_SHOWN = frozenset({ReasonCode.TONES_ONLY, ReasonCode.ADVERT, ReasonCode.ADVERT_WORD,
                           ReasonCode.URGENT, ReasonCode.URGENT_NOT_DISCARDED, ReasonCode.DEPARTMENT,
                           ReasonCode.DTMF, ReasonCode.ADVERT_OR_COMPLAINT})
OTHER_REASON_ZH = "其他原因"


def reason_text_zh(reason: Mapping[str, Any]) -> str:
    """What a person reads for one stored reason ({code, detail}), wholly Chinese.

    The one home of the labels every page shows (the screening desk, the callback console); a
    code that is no rule of triage (the spool's checks) was written in Chinese and is read as it is.
    """
    code, detail = str(reason.get("code") or ""), str(reason.get("detail") or "")
    try:
        known = ReasonCode(code)
    except ValueError:
        written = next((str(t) for t in (reason.get("message"), detail) if t and han_count(str(t))), None)
        return written or OTHER_REASON_ZH
    if known in REVIEW_REASON_ZH:
        label = _review_zh(Reason(known, detail))
    else:
        label = {**INVALID_REASON_ZH, **INFO_REASON_ZH}[known]
    if known in _DETAIL_SHOWN and detail and not _ASCII_WORD.search(detail.replace("#", "")):
        return f"{label}：{detail}"
    return label


def reasons_zh(reasons: Sequence[Any] | None) -> list[Any]:
    """Stored reasons, each dict given its `text_zh` (what the pages show)."""
    return [{**r, "text_zh": reason_text_zh(r)} if isinstance(r, Mapping) else r for r in reasons or []]


AUDIO_INVALID = (ReasonCode.SILENCE, ReasonCode.HANGUP_AT_BEEP, ReasonCode.NO_SPEECH, ReasonCode.NOISE_ONLY)


def explain_zh(decision: TriageDecision, features: AudioFeatures | None) -> str:
    """One line of Chinese telling the morning staff what was decided and why."""
    by_code = {r.code: r.detail for r in decision.reasons}
    if decision.verdict == Verdict.INVALID:
        code = next(r.code for r in decision.reasons if r.code in INVALID_CODES)
        line = f"无效：{INVALID_REASON_ZH[code]}"
        if code in AUDIO_INVALID:
            line += f"（共 {features.duration_s:.1f} 秒）" if features else ""
        elif code == ReasonCode.TONES_ONLY:
            line += f"（{by_code[code]}）"
        elif code == ReasonCode.ADVERT:
            line += f"（关键词：{by_code[code]}）"
        elif code == ReasonCode.DUPLICATE:
            basis = "声音和内容" if "voice" in by_code[code] else "内容"
            line += f"，与留言 {decision.duplicate_of} {basis}相似，已保留较完整的那条"
    else:
        parts = []
        if decision.priority == Priority.URGENT:
            parts.append(f"【紧急：{by_code.get(ReasonCode.URGENT, '')}】")
        if decision.verdict == Verdict.NEEDS_REVIEW:
            review = [_review_zh(r) for r in decision.reasons if r.code in REVIEW_CODES]
            overruled = [INVALID_REASON_ZH[r.code] for r in decision.reasons if r.code in INVALID_CODES]
            parts.append("待人工复核：" + "；".join(dict.fromkeys(review))
                         + (f"（{'；'.join(overruled)}）" if overruled else "") + "，请收听录音")
        else:
            parts.append(f"有效：人声 {features.speech_s:.0f} 秒" if features else "有效")
        if decision.department:
            parts.append(f"建议转办{decision.department}")
        if decision.callback_number:
            source = "来电号码" if decision.callback_source == "caller_id" else "留言中所说号码"
            parts.append(f"回拨 {decision.callback_number}（{source}）")
        if decision.supersedes:
            parts.append(f"同号码较短的相似留言 {'、'.join(decision.supersedes)} 已并入本条")
        line = "，".join(parts)
    return line.replace("\n", " ")
