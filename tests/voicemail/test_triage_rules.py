"""Triage rules on Chinese transcript fixtures: adverts, numbers, duplicates, departments, priority.

Audio features are built by hand here (test_audio_analysis.py shows real audio produces them);
transcripts are what a Chinese Vosk model writes once its spaces are stripped.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hotline.config.remit import RemitTable
from hotline.config.triage import TriageSettings, settings_from_section
from voicemail.audio_analysis import AudioFeatures
from voicemail.transcribe import Transcript, Word, script_of
from voicemail.triage import (
    Priority,
    PriorMessage,
    ReasonCode,
    TriageDecision,
    TriageInput,
    Verdict,
    bigram_similarity,
    keyword_hits,
    needs_transcript,
    reason_text_zh,
    reasons_zh,
    triage,
)

NIGHT = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
CALLER = "13812345678"
DEPARTMENTS = RemitTable.from_keywords((  # as hotline.conf's [department] blocks
    ("住房和城乡建设局", ("物业", "小区", "房屋", "装修", "电梯", "违建")),
    ("市场监督管理局", ("消费", "退款", "食品", "假货", "价格", "商家")),
    ("供水集团", ("停水", "漏水", "水管", "水压", "水费")),
    ("燃气公司", ("燃气", "煤气", "天然气", "燃气泄漏")),
    ("供电公司", ("停电", "电表", "电费", "电线")),
))
SPEECH = AudioFeatures(
    duration_s=12.0, active_s=10.0, speech_s=8.0, speech_segments=((1.0, 9.0),),
    leading_silence_s=1.0, trailing_silence_s=3.0, rms_dbfs=-24.0, peak_dbfs=-4.0, clipping_ratio=0.0,
    dtmf_digits="", dtmf_s=0.0, fax_cng=False, fax_ced=False, busy_tone=False, tone_s=0.0,
    prediction_gain_db=7.0, level_spread_db=20.0, events_s=12.0, content_start_s=1.0, content_end_s=9.0,
    silent=False, tone_only=False, noise_only=False)
SILENT = replace(SPEECH, active_s=0.0, speech_s=0.0, speech_segments=(), leading_silence_s=12.0,
                 trailing_silence_s=12.0, rms_dbfs=-120.0, level_spread_db=0.0, events_s=0.0, silent=True)

GAS = "你好我家厨房的燃气管道漏气了一股煤气味请尽快派人来看一下"
WATER = "我要反映一下我们小区已经停水三天了物业也不管希望有关部门尽快处理"
ADVERT = "您好低息贷款当天放款无需抵押详情请加微信咨询优惠多多"


def transcript(text: str, conf: float = 0.9) -> Transcript:
    words = tuple(Word(ch, i * 0.2, i * 0.2 + 0.2, conf) for i, ch in enumerate(text))
    return Transcript(text, words, script_of(text), SPEECH.duration_s)


def judge(text: str | None, caller: str | None = CALLER, features: AudioFeatures = SPEECH,
          history: list[PriorMessage] | None = None, settings: TriageSettings | None = None,
          message_id: str = "m-now", at: datetime = NIGHT) -> TriageDecision:
    return triage(TriageInput(message_id, at), features, transcript(text) if text is not None else None,
                  caller, history or [], settings or TriageSettings(), DEPARTMENTS)


def assert_one_chinese_line(decision: TriageDecision) -> None:
    line = decision.explanation_zh
    assert line and "\n" not in line and any("\u4e00" <= ch <= "\u9fff" for ch in line)


# ---------------------------------------------------------------- valid messages


def test_a_gas_leak_is_valid_urgent_and_goes_to_the_gas_company() -> None:
    d = judge(GAS)
    assert d.verdict == Verdict.VALID
    assert d.priority == Priority.URGENT
    assert d.department == "燃气公司"
    assert (d.callback_number, d.callback_source) == (CALLER, "caller_id")
    assert d.duplicate_of is None and d.supersedes == ()
    assert d.explanation_zh.startswith("【紧急") and "有效" in d.explanation_zh
    assert "燃气公司" in d.explanation_zh
    assert_one_chinese_line(d)


def test_department_follows_the_most_keyword_hits() -> None:
    d = judge("小区物业不管电梯坏了商家也不退款")  # housing 3 (小区 物业 电梯), market 2 (商家 退款)
    assert d.department == "住房和城乡建设局" and d.priority == Priority.NORMAL
    assert judge("商家卖假货还不给退款价格也乱标").department == "市场监督管理局"


def test_department_tie_goes_to_the_first_in_configuration() -> None:
    d = judge("物业说这个假货的事不归他们管请帮忙处理一下")  # 物业 vs 假货: one each
    assert d.department == "住房和城乡建设局"
    assert "其次：市场监督管理局" in next(r.detail for r in d.reasons if r.code == "department")


def test_no_remit_keyword_means_no_department() -> None:
    d = judge("你好我想咨询一下公积金提取需要什么材料谢谢")
    assert d.verdict == Verdict.VALID and d.department is None


def test_urgent_keywords_are_configurable() -> None:
    text = "我们楼的电梯困人了里面有老人请赶快派人"
    assert judge(text).priority == Priority.NORMAL
    settings = TriageSettings(urgent_keywords=("困人",))
    assert judge(text, settings=settings).priority == Priority.URGENT


# ---------------------------------------------------------------- callback numbers


def test_withheld_caller_who_speaks_a_mobile_number() -> None:
    d = judge(WATER + "请回电幺三八幺二三四五六七八谢谢", caller=None)
    assert d.verdict == Verdict.VALID
    assert (d.callback_number, d.callback_source) == ("13812345678", "spoken")
    assert [n.digits for n in d.spoken_numbers] == ["13812345678"]
    assert "留言中所说号码" in d.explanation_zh


def test_withheld_caller_who_speaks_a_landline_with_area_code() -> None:
    d = judge(WATER + "我的座机是零五七幺八七六五四三二幺", caller=None)
    assert d.verdict == Verdict.VALID and d.callback_number == "057187654321"


def test_caller_id_comes_first_and_spoken_numbers_are_kept() -> None:
    d = judge(WATER + "也可以打我爱人的手机一三九一二三四五六七八", caller="0571-87654321")
    assert (d.callback_number, d.callback_source) == ("057187654321", "caller_id")
    assert [n.digits for n in d.spoken_numbers] == ["13912345678"]


def test_withheld_caller_and_no_number_is_reviewed_never_invalid() -> None:
    """Real speech is a request even without a number: a person listens for one."""
    d = judge(WATER, caller=None)
    assert d.verdict == Verdict.NEEDS_REVIEW and "no_callback_number" in d.codes
    assert d.callback_number is None and d.department == "住房和城乡建设局"
    assert "来电号码隐藏" in d.explanation_zh and "待人工复核" in d.explanation_zh


def test_withheld_urgent_message_without_number_still_reaches_a_person() -> None:
    d = judge(GAS, caller=None)
    assert d.verdict == Verdict.NEEDS_REVIEW and d.priority == Priority.URGENT
    assert "no_callback_number" in d.codes
    assert "紧急" in d.explanation_zh and "来电号码隐藏" in d.explanation_zh


def test_withheld_caller_with_an_incomplete_number_is_reviewed() -> None:
    d = judge(WATER + "我的电话是幺三八幺二三四五六七", caller=None)
    assert d.verdict == Verdict.NEEDS_REVIEW and "number_unclear" in d.codes


def test_uncallable_caller_id_is_reviewed() -> None:
    d = judge(WATER, caller="1001")
    assert d.verdict == Verdict.NEEDS_REVIEW and "caller_number_invalid" in d.codes


# ---------------------------------------------------------------- adverts


def test_advert_is_invalid() -> None:
    d = judge(ADVERT)
    assert d.verdict == Verdict.INVALID and d.codes[0] == "advert"
    assert "广告" in d.explanation_zh and "贷款" in d.explanation_zh
    assert d.priority == Priority.NORMAL and d.department is None


def test_one_advert_word_alone_is_not_an_advert() -> None:
    d = judge("我在商场买东西商家不给开发票请帮忙处理")
    assert d.verdict == Verdict.VALID and "advert_word" in d.codes
    assert d.department == "市场监督管理局"


def test_a_complaint_about_adverts_is_not_discarded() -> None:
    d = judge("我要投诉有人天天打电话推广贷款还让我加微信严重骚扰")
    assert d.verdict == Verdict.NEEDS_REVIEW and "advert_or_complaint" in d.codes


def test_advert_keywords_come_from_the_settings() -> None:
    settings = TriageSettings(advert_keywords=("招生", "培训"), advert_min_hits=2)
    assert judge(ADVERT, settings=settings).verdict == Verdict.VALID
    assert judge("暑期培训班火热招生中名额有限", settings=settings).verdict == Verdict.INVALID


def test_a_keyword_inside_a_longer_one_counts_once() -> None:
    assert keyword_hits("回复退订", ("退订", "回复退订")) == ["回复退订"]


# ---------------------------------------------------------------- duplicates


def prior(message_id: str, text: str, speech_s: float, minutes_before: float, number: str = CALLER,
          verdict: str = "valid", duplicate_of: str | None = None) -> PriorMessage:
    at = NIGHT - timedelta(minutes=minutes_before)
    return PriorMessage(message_id, number, at, speech_s, text, verdict, duplicate_of)


def test_shorter_repeat_is_a_duplicate_of_the_fuller_message() -> None:
    history = [prior("m-full", WATER + "麻烦尽快", 30.0, 20)]
    d = judge(WATER, history=history)
    assert d.verdict == Verdict.INVALID and d.codes[0] == "duplicate"
    assert d.duplicate_of == "m-full"
    assert "m-full" in d.explanation_zh


def test_fuller_repeat_supersedes_the_earlier_shorter_ones() -> None:
    history = [prior("m-short", WATER[:20], 6.0, 30), prior("m-shorter", WATER[:18], 5.0, 25)]
    d = judge(WATER, history=history)
    assert d.verdict == Verdict.VALID and d.duplicate_of is None
    assert set(d.supersedes) == {"m-short", "m-shorter"}
    assert "supersedes" in d.codes


def test_an_invalid_message_supersedes_nothing() -> None:
    history = [prior("m-short", ADVERT[:22], 3.0, 30, verdict="needs_review")]
    d = judge(ADVERT, history=history)
    assert d.verdict == Verdict.INVALID and d.codes[0] == "advert" and d.supersedes == ()


def test_a_duplicate_links_to_the_kept_message_not_to_another_duplicate() -> None:
    history = [prior("m-kept", WATER, 30.0, 60), prior("m-dup", WATER, 25.0, 40, verdict="invalid",
                                                           duplicate_of="m-kept")]
    d = judge(WATER, history=history)
    assert d.duplicate_of == "m-kept"
    history = [prior("m-dup", WATER, 35.0, 40, verdict="invalid", duplicate_of="m-kept")]
    assert judge(WATER, history=history).duplicate_of == "m-kept"


def test_no_duplicate_outside_the_window() -> None:
    history = [prior("m-old", WATER, 30.0, 13 * 60)]
    assert judge(WATER, history=history).verdict == Verdict.VALID
    settings = TriageSettings(duplicate_window=timedelta(hours=24))
    assert judge(WATER, history=history, settings=settings).duplicate_of == "m-old"


def test_no_duplicate_across_numbers_or_topics() -> None:
    assert judge(WATER, history=[prior("m-other", WATER, 30.0, 10, number="13912345678")]).verdict == "valid"
    assert judge(WATER, history=[prior("m-gas", GAS, 30.0, 10)]).verdict == Verdict.VALID
    assert bigram_similarity(WATER, GAS) < 0.2 < 0.9 < bigram_similarity(WATER, WATER + "谢谢")


def test_a_withheld_caller_matches_by_the_number_spoken() -> None:
    spoken = WATER + "请回电幺三八幺二三四五六七八"
    history = [prior("m-first", spoken + "谢谢谢谢", 30.0, 10, number="13812345678")]
    d = judge(spoken, caller=None, history=history)
    assert d.duplicate_of == "m-first"


def test_an_earlier_advert_is_nothing_to_keep() -> None:
    history = [prior("m-ad", WATER, 30.0, 10, verdict="invalid")]
    assert judge(WATER, history=history).verdict == Verdict.VALID


# ---------------------------------------------------------------- audio evidence


def test_silence_and_hangup_at_the_beep() -> None:
    assert judge(None, features=SILENT).codes == ("silence",)
    short = replace(SILENT, duration_s=1.2, leading_silence_s=1.2, trailing_silence_s=1.2)
    d = judge(None, features=short)
    assert d.verdict == Verdict.INVALID and d.codes == ("hangup_at_beep",)
    assert "挂机" in d.explanation_zh
    a_word = replace(SPEECH, duration_s=2.0, speech_s=0.6)  # "喂？" and gone
    assert judge("喂", features=a_word).codes == ("hangup_at_beep",)


def test_noise_only_is_invalid_even_when_the_vad_fired() -> None:
    noise = replace(SPEECH, speech_s=20.0, prediction_gain_db=0.2, level_spread_db=1.0, events_s=0.0,
                    noise_only=True)
    d = judge(GAS, features=noise)  # the transcript of noise is not evidence of anything
    assert d.verdict == Verdict.INVALID and d.codes == ("noise_only",)


def test_tones_only() -> None:
    tones = replace(SPEECH, speech_s=0.0, dtmf_digits="1380", dtmf_s=1.0, tone_s=4.0, active_s=4.5,
                    busy_tone=True, tone_only=True)
    d = judge("", features=tones)
    assert d.verdict == Verdict.INVALID and d.codes == ("tones_only",)
    assert d.reasons[0].detail == "按键音 1380、忙音"
    fax = replace(tones, dtmf_digits="", busy_tone=False, fax_cng=True)
    assert judge(None, features=fax).codes == ("tones_only",)


def test_speech_then_busy_tone_is_judged_on_the_speech() -> None:
    hung_up = replace(SPEECH, busy_tone=True, tone_s=10.0)
    assert judge(GAS, features=hung_up).verdict == Verdict.VALID


def test_no_speech_in_a_long_recording_is_invalid_but_a_little_is_reviewed() -> None:
    clatter = replace(SPEECH, speech_s=0.1)
    assert judge(None, features=clatter).codes == ("no_speech",)
    murmur = replace(SPEECH, speech_s=0.7)
    d = judge("", features=murmur)
    assert d.verdict == Verdict.NEEDS_REVIEW and "little_speech" in d.codes


def test_only_messages_the_audio_does_not_decide_need_decoding() -> None:
    settings = TriageSettings()
    assert needs_transcript(SPEECH, settings)
    assert needs_transcript(replace(SPEECH, speech_s=0.7), settings)  # a little speech: listen
    assert not needs_transcript(SILENT, settings)
    assert not needs_transcript(replace(SPEECH, noise_only=True), settings)
    assert not needs_transcript(replace(SPEECH, speech_s=0.0, tone_only=True), settings)
    assert not needs_transcript(None, settings)


def test_unreadable_audio_is_reviewed() -> None:
    d = triage(TriageInput("m-bad", NIGHT), None, None, CALLER, [], TriageSettings(), DEPARTMENTS)
    assert d.verdict == Verdict.NEEDS_REVIEW and d.codes == ("audio_unreadable",)
    assert d.callback_number == CALLER


# ---------------------------------------------------------------- when in doubt, not invalid


@pytest.mark.parametrize(("text", "why"), [
    (None, "no_transcript"),
    ("", "empty"),
    ("이어 영파 비료 여기 에 다 벅 리더 경기도 아너", "not Chinese"),  # the Korean stand-in model
    ("燃气", "characters"),  # two characters for 8 s of speech
])
def test_speech_with_an_unusable_transcript_is_reviewed(text: str | None, why: str) -> None:
    for caller in (CALLER, None):
        d = judge(text, caller=caller)
        assert d.verdict == Verdict.NEEDS_REVIEW, (text, caller)
        detail = " ".join(f"{r.code} {r.detail}" for r in d.reasons)
        assert why in detail
        assert "待人工复核" in d.explanation_zh
        assert_one_chinese_line(d)


def test_urgent_words_in_a_short_transcript_still_raise_priority() -> None:
    d = judge("燃气")
    assert d.verdict == Verdict.NEEDS_REVIEW and d.priority == Priority.URGENT


def test_low_confidence_transcript_is_reviewed() -> None:
    t = replace(transcript(ADVERT), words=tuple(replace_conf(w, 0.2) for w in transcript(ADVERT).words))
    d = triage(TriageInput("m", NIGHT), SPEECH, t, CALLER, [], TriageSettings(), DEPARTMENTS)
    assert d.verdict == Verdict.NEEDS_REVIEW and "transcript_unusable" in d.codes


def replace_conf(word: Word, conf: float) -> Word:
    return word._replace(conf=conf)


# ---------------------------------------------------------------- configuration


def test_settings_from_a_triage_section() -> None:
    settings = settings_from_section({
        "advert_keywords": "贷款，代办、发票, 加微信",
        "urgent_keywords": "燃气, 停电",
        "duplicate_window_minutes": "90",
        "duplicate_similarity": "0.6",
        "hangup_max_seconds": "2.5",
    })
    assert settings.advert_keywords == ("贷款", "代办", "发票", "加微信")
    assert settings.urgent_keywords == ("燃气", "停电")
    assert settings.duplicate_window == timedelta(minutes=90)
    assert settings.duplicate_similarity == 0.6 and settings.hangup_max_s == 2.5
    assert settings.min_speech_s == TriageSettings().min_speech_s


@pytest.mark.parametrize(("section", "message"), [
    ({"advert_words": "x"}, "未知的键“advert_words”"),
    ({"duplicate_similarity": "2"}, "duplicate_similarity"),
    ({"duplicate_window_minutes": "soon"}, "duplicate_window_minutes"),
])
def test_bad_triage_sections_are_rejected(section: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_from_section(section)


# ---------------------------------------------------------------- audio alone (any model)

ROW = (10, -20, 30, 5, 0, 0, 0, 0, 0, 0, 0)
PRINT_A = tuple(tuple(v + (i % 7) * 40 for v in ROW) for i in range(60))
PRINT_B = tuple(tuple(v - (i % 5) * 60 for v in ROW) for i in range(60))


def voiced(print_: tuple[tuple[int, ...], ...], speech_s: float = 8.0) -> AudioFeatures:
    return replace(SPEECH, speech_print=print_, speech_s=speech_s)


def test_a_short_repeat_is_found_by_containment_not_a_symmetric_ratio() -> None:
    long_text = WATER + "另外楼道的灯也坏了很久了晚上根本看不见路老人孩子上下楼很危险请一起处理"
    assert bigram_similarity(WATER, long_text) < 0.5  # the old measure missed it
    d = judge(WATER, history=[prior("m-long", long_text, 30.0, 20)])
    assert d.verdict == Verdict.INVALID and d.duplicate_of == "m-long"


def test_duplicates_by_voice_when_the_transcript_cannot_be_trusted() -> None:
    history = [PriorMessage("m-first", CALLER, NIGHT - timedelta(minutes=30), 12.0, "", "needs_review",
                            speech_print=PRINT_A[:60], transcript_trusted=False)]
    d = triage(TriageInput("m-now", NIGHT), voiced(PRINT_A[10:50]), None, CALLER, history, TriageSettings(),
               DEPARTMENTS)
    assert d.verdict == Verdict.INVALID and d.codes[0] == "duplicate" and d.duplicate_of == "m-first"
    assert "声音和内容相似" in d.explanation_zh
    other = triage(TriageInput("m-now", NIGHT), voiced(PRINT_B), None, CALLER, history, TriageSettings(),
                   DEPARTMENTS)
    assert other.verdict == Verdict.NEEDS_REVIEW and other.duplicate_of is None


def test_withheld_callers_are_matched_by_voice_only_among_withheld_messages() -> None:
    withheld = PriorMessage("m-anon", None, NIGHT - timedelta(minutes=30), 12.0, "", "needs_review",
                            speech_print=PRINT_A, withheld=True, transcript_trusted=False)
    known = replace(withheld, message_id="m-known", callback_number="13912345678", withheld=False)
    d = triage(TriageInput("m-now", NIGHT), voiced(PRINT_A[5:45]), None, None, [known, withheld],
               TriageSettings(), DEPARTMENTS)
    assert d.verdict == Verdict.INVALID and d.duplicate_of == "m-anon"
    alone = triage(TriageInput("m-now", NIGHT), voiced(PRINT_A[5:45]), None, None, [known],
                   TriageSettings(), DEPARTMENTS)
    assert alone.verdict == Verdict.NEEDS_REVIEW and "no_callback_number" in alone.codes


def test_a_fuller_repeat_by_voice_supersedes_the_shorter() -> None:
    history = [PriorMessage("m-short", CALLER, NIGHT - timedelta(minutes=30), 4.0, "", "needs_review",
                            speech_print=PRINT_A[:40], transcript_trusted=False)]
    d = triage(TriageInput("m-now", NIGHT), voiced(PRINT_A, 12.0), None, CALLER, history, TriageSettings(),
               DEPARTMENTS)
    assert d.verdict == Verdict.NEEDS_REVIEW and d.supersedes == ("m-short",)


def test_a_beep_then_nothing_is_a_hangup_at_the_beep() -> None:
    beep_hiss = replace(SPEECH, speech_s=0.0, speech_segments=(), noise_only=True, beep_at_start=True,
                        tone_s=0.5, duration_s=10.5)
    d = judge(None, features=beep_hiss)
    assert d.verdict == Verdict.INVALID and d.codes == ("hangup_at_beep",)
    assert d.explanation_zh == "无效：提示音后即挂机（共 10.5 秒）"


@pytest.mark.parametrize("tones", [
    {"dtmf_digits": "00#9"}, {"busy_tone": True}, {"fax_cng": True}, {"fax_ced": True}, {"ringback": True},
    {"dial_tone": True}, {"sit": True}])
def test_tone_explanations_are_wholly_chinese(tones: dict[str, object]) -> None:
    f = replace(SPEECH, speech_s=0.0, tone_only=True, tone_s=4.0, **tones)
    d = judge(None, features=f)
    assert d.verdict == Verdict.INVALID and d.codes == ("tones_only",)
    assert not re.search(r"[A-Za-z]", d.explanation_zh), d.explanation_zh


@pytest.mark.parametrize("code", list(ReasonCode))
def test_every_reason_reads_in_chinese(code: ReasonCode) -> None:
    """The pages show text_zh, never the code: every rule has a Chinese label (one home)."""
    text = reason_text_zh({"code": code.value, "detail": "2.5 s in 9.0 s; caller id withheld"})
    assert text and not re.search(r"[A-Za-z]", text), text


def test_reasons_carry_their_chinese_for_the_pages() -> None:
    decision = judge(GAS + "我的电话是13912345678", caller=None)
    stored = [{"code": r.code.value, "detail": r.detail} for r in decision.reasons]
    shown = [r["text_zh"] for r in reasons_zh(stored)]
    assert shown == ["有人声", "含紧急词：燃气、煤气、漏气", "建议转办：燃气公司（匹配词：燃气、煤气）",
                     "有回拨号码"]
    assert reasons_zh([{"code": "dtmf", "detail": "0#"}])[0]["text_zh"] == "有按键音：0#"
    spool = {"code": "spool", "detail": "录音文件不是 WAV，请人工核对"}
    assert reason_text_zh(spool) == "录音文件不是 WAV，请人工核对"  # the spool's checks write Chinese
    assert reason_text_zh({"code": "from_a_newer_release"}) == "其他原因"
    assert reason_text_zh({"code": "callback_number", "message": "留言里的号码"}) == "留言里的号码"
