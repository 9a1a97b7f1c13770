"""`hotline qa analyze OPERATOR.wav CITIZEN.wav [--json]`: the automatic quality measures of one
call from its two tracks, the same the service computes, for tuning limits and checking them."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from hotline.cli import EXIT_OK, EXIT_REFUSED
from quality.measures import Limits, measure_call
from quality.phrases import check_phrases
from quality.track import analyze_track
from quality.wav import RecordingError, read_mono

HOLD = re.compile(r"^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$")


def register(subparsers: argparse._SubParsersAction) -> None:
    qa = subparsers.add_parser("qa", help="质检")
    sub = qa.add_subparsers(dest="qa_command", required=True)
    analyze = sub.add_parser("analyze", help="由坐席和市民两条音轨检测一通电话")
    analyze.add_argument("operator", type=Path, metavar="OPERATOR.wav", help="坐席一方的音轨（单声道 WAV）")
    analyze.add_argument("citizen", type=Path, metavar="CITIZEN.wav", help="市民一方的音轨（单声道 WAV）")
    analyze.add_argument("--json", action="store_true", help="在标准输出打印一个 JSON 对象")
    analyze.add_argument("--hold", action="append", default=[], metavar="START-END",
                         help="一段保持时间（秒），例如 30-45（可重复给出）")
    analyze.add_argument("--too-fast", type=float, default=Limits.too_fast_per_min, metavar="字/分钟",
                         help=f"坐席语速超过此值算过快（默认 {Limits.too_fast_per_min:g}）")
    analyze.add_argument("--long-silence", type=float, default=Limits.long_silence_s, metavar="S",
                         help=f"双方静默达到此时长即报告（默认 {Limits.long_silence_s:g} 秒）")
    analyze.add_argument("--model", type=Path, default=None,
                         help="Vosk 模型：给出中文模型时，还检查开场白、结束语"
                              "和请市民重复的次数")
    analyze.set_defaults(handler=_analyze)


def _holds(values: list[str]) -> list[tuple[float, float]] | str:
    spans = []
    for value in values:
        match = HOLD.match(value.strip())
        if not match or float(match[1]) >= float(match[2]):
            return f"--hold “{value}”：应为以秒计的 开始-结束，且 开始 < 结束，例如 30-45"
        spans.append((float(match[1]), float(match[2])))
    return sorted(spans)


def _analyze(args: argparse.Namespace) -> int:
    holds = _holds(args.hold)
    if isinstance(holds, str):
        print(f"hotline：{holds}", file=sys.stderr)
        return EXIT_REFUSED
    if args.too_fast <= 0 or args.long_silence <= 0:
        print("hotline：--too-fast 和 --long-silence 必须大于 0", file=sys.stderr)
        return EXIT_REFUSED
    try:
        tracks = [read_mono(args.operator), read_mono(args.citizen)]
    except RecordingError as exc:
        print(f"hotline：{exc}", file=sys.stderr)
        return EXIT_REFUSED
    limits = Limits(too_fast_per_min=args.too_fast, long_silence_s=args.long_silence)
    result = measure_call(analyze_track(tracks[0]), analyze_track(tracks[1]), holds, limits).to_dict()
    result["phrases"] = _phrases(args.model, args.operator, args.citizen)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_summary(result)
    return EXIT_OK


def _phrases(model: Path | None, operator: Path, citizen: Path) -> dict:
    """The Chinese-only checks, run only when a Chinese model is given (else skipped, saying why)."""
    if model is None:
        return check_phrases(None, None, None).__dict__
    from voicemail.transcribe import Transcriber, model_info, model_problem

    problem = model_problem(model)
    if problem is not None:
        return check_phrases(None, None, f"不可用：{problem}").__dict__
    language = model_info(model).language
    if language != "zh":
        return check_phrases(None, None, language).__dict__
    transcriber = Transcriber(model)
    texts = [transcriber.transcribe(path).text for path in (operator, citizen)]
    return check_phrases(texts[0], texts[1], language).__dict__


def _print_summary(result: dict) -> None:
    rows = (("通话时长", "duration_s", "秒"), ("坐席说话", "operator_speech_s", "秒"),
            ("市民说话", "citizen_speech_s", "秒"), ("坐席语速", "operator_syllables_per_min", "字/分钟"),
            ("语速过快占比", "too_fast_share", ""), ("抢话次数", "talk_over_count", "次"),
            ("抢话时长", "talk_over_s", "秒"), ("最长静默", "longest_silence_s", "秒"),
            ("保持时长", "hold_s", "秒"), ("保持次数", "hold_count", "次"),
            ("坐席音量", "operator_level_dbfs", "dBFS"))
    for label, key, unit in rows:
        print(f"{label}\t{result[key]} {unit}".rstrip())
    print(f"问题\t{'、'.join(result['flags']) or '无'}")
    if result["phrases"]["skipped"]:
        print(f"未检测\t{result['phrases']['skipped']}")
