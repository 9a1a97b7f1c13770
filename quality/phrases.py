"""The three measures that need a Chinese transcript: opening phrase, closing phrase, and how
often the citizen asked to repeat. Pure: transcripts in, answers out.

They are skipped, with the reason, whenever the transcripts do not come from a Chinese model:
matching Chinese phrases in a Korean stand-in model's output would only ever say "absent".
The service gets its transcriber from the wiring (`Transcription`): this package loads no model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# "07号工作人员为您服务" as Vosk writes it: digits may come as 零七, and words are space-separated.
OPENING = re.compile(r"号.{0,6}为您服务|工作人员为您服务|很高兴为您服务")
CLOSING = re.compile(r"感谢.{0,2}来电|祝您.{0,4}愉快|再见")
REPEAT_REQUESTS = re.compile(r"听不清|再说一遍|没听清|再说一次|听不见|没听见")


@dataclass(frozen=True)
class PhraseChecks:
    """None in a field means not measured; `skipped` then says why (Chinese, for the page)."""

    opening_phrase: bool | None = None
    closing_phrase: bool | None = None
    repeat_requests: int | None = None
    skipped: str | None = None
    pending: bool = False  # measured, the transcript still to come


CHECKS_SKIPPED = "开场白、结束语和“听不清/再说一遍”次数未检测"
NOT_TRANSCRIBED = f"服务未配置语音识别模型，{CHECKS_SKIPPED}"


@dataclass(frozen=True)
class Transcription:
    """What the wiring hands the service: a transcriber of one track with a Chinese model
    (blocking, file in, text out), or the Chinese reason why there is none."""

    transcribe: Callable[[Path], str] | None = None
    skipped: str = NOT_TRANSCRIBED


def not_transcribed() -> PhraseChecks:
    """Measured without a Chinese model: the three checks are skipped, saying so."""
    return PhraseChecks(skipped=NOT_TRANSCRIBED)


def skipped_because(language: str | None) -> str:
    """The Chinese reason for a model that is missing (None) or speaks another language."""
    why = "未配置语音识别模型" if language is None else f"语音识别模型不是中文（{language}）"
    return f"{why}，{CHECKS_SKIPPED}"


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_phrases(operator_text: str | None, citizen_text: str | None, language: str | None) -> PhraseChecks:
    """Opening and closing in the operator's words, repeat requests in the citizen's."""
    if language != "zh":
        return PhraseChecks(skipped=skipped_because(language))
    operator, citizen = _squeeze(operator_text or ""), _squeeze(citizen_text or "")
    head = operator[:40]
    tail = operator[-40:]
    return PhraseChecks(
        opening_phrase=bool(OPENING.search(head)),
        closing_phrase=bool(CLOSING.search(tail)),
        repeat_requests=len(REPEAT_REQUESTS.findall(citizen)),
    )
