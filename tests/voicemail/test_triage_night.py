"""A generated, labelled night through the real triage batch, on audio alone (no speech model).

This is the case of the demo, of CI and of a hall's first day: the model is not Chinese, so no
transcript can be trusted and every verdict rests on the audio. (The Korean stand-in's transcripts
are never trusted either, so its verdicts are these.) The test prints the figures the lead quotes:

    night: messages=N invalid_precision=P invalid_recall=R duplicates_found=D/T
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.config import load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from tests.voicemail import audio_fixtures as fx
from tests.voicemail import night
from voicemail.models import STATE_INVALID, STATE_NEW, Voicemail
from voicemail.triage import reasons_zh
from voicemail.triage_service import triage_pending

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
ASCII_WORD = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def the_night(tmp_path_factory: pytest.TempPathFactory) -> list[night.NightMessage]:
    return night.generate(tmp_path_factory.mktemp("night-audio"))


def test_a_labelled_night_on_audio_alone(tmp_path: Path, the_night: list[night.NightMessage]) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    config = load_config(REPO / "hotline.conf", overrides={
        "database.url": f"sqlite:///{tmp_path}/night.db", "voicemail.archive": str(archive)})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    ids: dict[str, int] = {}
    with session_scope(sessions) as session:
        for i, message in enumerate(the_night):
            fx.write_wav(archive / f"{message.name}.wav", message.samples)
            row = Voicemail(recording_id=f"night-{i}", caller_num=message.caller or "",
                            caller_withheld=message.caller is None,
                            call_time=START + timedelta(minutes=17 * i), archive_name=f"{message.name}.wav",
                            duration_s=len(message.samples) / fx.RATE, state=STATE_NEW)
            session.add(row)
            session.flush()
            ids[message.name] = row.id
    report = triage_pending(sessions, config, None)
    assert report.total == len(the_night) and not report.failed
    with sessions() as session:
        rows = {r.id: r for r in session.scalars(select(Voicemail))}
    engine.dispose()
    by_name = {name: rows[vid] for name, vid in ids.items()}
    name_of = {vid: name for name, vid in ids.items()}

    # A duplicate pair is found when one of the two is made an invalid duplicate of the other
    # (which one depends on which the analysis hears as fuller).
    pairs = [(m.name, m.copy_of or "") for m in the_night if m.truth == night.DUPLICATE]
    pairs += list(night.superseded_by_fuller().items())
    found = [(a, b) for a, b in pairs if _linked(by_name, name_of, a, b) or _linked(by_name, name_of, b, a)]
    in_pairs = {name for pair in pairs for name in pair}
    invalid_truth = {m.name for m in the_night if m.truth == night.INVALID}
    made_invalid = {name for name, row in by_name.items() if row.state == STATE_INVALID}
    hits = len(made_invalid & invalid_truth) + len(found)
    precision = hits / len(made_invalid) if made_invalid else 1.0
    recall = hits / (len(invalid_truth) + len(pairs))
    print(f"\nnight: messages={len(the_night)} "
          f"invalid_precision={precision:.3f} ({hits}/{len(made_invalid)}) "
          f"invalid_recall={recall:.3f} ({hits}/{len(invalid_truth) + len(pairs)}) "
          f"duplicates_found={len(found)}/{len(pairs)}")
    wrongly = (made_invalid - invalid_truth - in_pairs) | {a for a, b in pairs if {a, b} <= made_invalid}
    assert not wrongly, {n: by_name[n].explanation_zh for n in wrongly}
    missed = invalid_truth - made_invalid
    assert recall >= 0.9, {n: (by_name[n].state, by_name[n].explanation_zh) for n in missed}
    assert len(found) == len(pairs), (pairs, found)
    assert precision == 1.0
    for name, row in by_name.items():
        assert row.explanation_zh and not ASCII_WORD.search(row.explanation_zh), (name, row.explanation_zh)
        shown = [r["text_zh"] for r in reasons_zh(row.triage_reasons)]  # what the desk lists
        assert shown and not any(ASCII_WORD.search(text) for text in shown), (name, shown)


def _linked(by_name: dict[str, Voicemail], name_of: dict[int, str], copy: str, kept: str) -> bool:
    row = by_name[copy]
    return (row.state == STATE_INVALID and row.duplicate_of is not None
            and name_of.get(row.duplicate_of) == kept)


def test_the_night_covers_every_category(the_night: list[night.NightMessage]) -> None:
    names = " ".join(m.name for m in the_night)
    for needed in ("silence", "hangup_at_beep", "beep_then_hiss", "dtmf_ulaw", "dtmf_fast_alaw", "ivr_00#9",
                   "busy_cn", "busy_na", "ringback_cn", "ringback_na", "sit", "fax_cng", "fax_ced",
                   "white_noise", "pink_noise", "brown_noise", "street_slow", "street_swelling",
                   "withheld_repeat", "short_repeat", "fuller_repeat", "speech_in_noise",
                   "other_voice_same_words", "speech_then_busy", "off_hook"):
        assert needed in names, needed
    assert shutil.which("sox") and shutil.which("espeak-ng")
