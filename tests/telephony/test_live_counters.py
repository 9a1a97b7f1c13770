"""Daily hall and seat counters replayed over AMI transcripts recorded from the project's sandbox
Asterisk (tests/ami_captures/); hand-built events only where noted."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from seat_manager.directory import Seat, SeatDirectory
from telephony.live_counters import DayStats, HallStats
from tests.ami_transcripts import Replay, find_event, header_of, load_transcript

HALL_TZ = ZoneInfo("Asia/Shanghai")
CAPTURE_START = datetime.fromtimestamp(1795813120, tz=HALL_TZ)  # 2026-11-28 04:58:40 in the hall
DIRECTORY = SeatDirectory([Seat.standard("01", "1001"), Seat.standard("02", "1002")])


def talk_time(name: str) -> int:
    """What Asterisk's AgentComplete said the call of one recording lasted."""
    return int(header_of(load_transcript(name), "TalkTime", "AgentComplete"))


def stats_for(*names: str, threshold: int = 15) -> tuple[HallStats, datetime]:
    stats = HallStats(threshold, DIRECTORY.seat_id_for_member)
    now = CAPTURE_START
    for name in names:
        run = Replay(load_transcript(name), stats.apply, now)
        run.rest()
        now = run.now
    return stats, now


def pause_of(day: DayStats, seat_id: str) -> float:
    seat = day.seat(seat_id)
    assert seat is not None
    return seat.pause_seconds


def test_answered_queue_call_counts_for_hall_and_seat() -> None:
    stats, now = stats_for("08")
    today = stats.today(now)
    assert today.day == CAPTURE_START.date()
    assert today.hall.received == 1
    assert today.hall.answered == 1
    assert today.hall.answered_within_sl == 1  # HoldTime 0
    assert today.hall.abandoned == 0
    assert today.hall.talk_seconds == talk_time("08") > 0  # AgentComplete TalkTime
    assert today.hall.answer_rate == 1.0 and today.hall.service_level == 1.0
    seat = today.seat("01")
    assert seat is not None
    assert (seat.offered, seat.answered, seat.missed, seat.talk_seconds) == (1, 1, 0, talk_time("08"))


def test_abandoned_caller() -> None:
    stats, now = stats_for("04")
    hall = stats.today(now).hall
    assert (hall.received, hall.answered, hall.abandoned) == (1, 0, 1)
    assert hall.answer_rate == 0.0 and hall.service_level == 0.0


def test_a_morning_of_captures_adds_up() -> None:
    stats, now = stats_for("04", "06", "07", "08")
    hall = stats.today(now).hall
    assert (hall.received, hall.answered, hall.abandoned, hall.answered_within_sl) == (4, 3, 1, 3)
    assert hall.talk_seconds == talk_time("06") + talk_time("07") + talk_time("08")
    assert hall.answer_rate == 0.75
    # 06, 07 and 08 all connect member "01" (Local/01@hotline-seat): the directory maps it to seat 01.
    seat = stats.today(now).seat("01")
    assert seat is not None and seat.answered == 3


def test_hold_time_beyond_the_threshold_is_outside_the_service_level() -> None:
    messages = load_transcript("08")
    connect = find_event(messages, "AgentConnect")
    # Hand-built variant of the real AgentConnect: the caller waited 20 s.
    messages[connect] = {**messages[connect], "HoldTime": "20"}
    for threshold, within in ((15, 0), (20, 1)):
        stats = HallStats(threshold, DIRECTORY.seat_id_for_member)
        run = Replay(messages, stats.apply, CAPTURE_START)
        run.rest()
        hall = stats.today(run.now).hall
        assert hall.answered == 1 and hall.answered_within_sl == within


def test_talk_time_falls_back_to_connect_until_complete() -> None:
    messages = load_transcript("08")
    complete = find_event(messages, "AgentComplete")
    connect = find_event(messages, "AgentConnect")
    # Hand-built: an AgentComplete without TalkTime.
    messages[complete] = {k: v for k, v in messages[complete].items() if k != "TalkTime"}
    stats = HallStats(seat_of=DIRECTORY.seat_id_for_member)
    run = Replay(messages, stats.apply, CAPTURE_START)
    run.rest()
    assert stats.today(run.now).hall.talk_seconds == complete - connect  # one second per message


def test_pause_time_per_seat() -> None:
    stats = HallStats(seat_of=DIRECTORY.seat_id_for_member)
    run = Replay(load_transcript("05"), stats.apply, CAPTURE_START)
    run.through("QueueMemberPause", Paused="1")
    paused_at = run.now
    assert pause_of(stats.today(paused_at + timedelta(seconds=90)), "02") == 90.0
    run.through("QueueMemberPause", Paused="0")
    seat = stats.today(run.now + timedelta(hours=1)).seat("02")
    assert seat is not None and seat.pause_seconds == (run.now - paused_at).total_seconds()


def test_day_rollover_splits_open_pauses_at_midnight() -> None:
    stats = HallStats(seat_of=DIRECTORY.seat_id_for_member)
    evening = datetime(2026, 11, 27, 23, 0, tzinfo=HALL_TZ)
    run = Replay(load_transcript("08"), stats.apply, evening)
    run.rest()  # one answered call on the 27th
    # Hand-built: seat 01 pauses at 23:59 and is still paused after midnight.
    pause = {"Event": "QueueMemberPause", "Queue": "hotline", "MemberName": "01", "Paused": "1"}
    assert stats.apply(pause, datetime(2026, 11, 27, 23, 59, tzinfo=HALL_TZ)) is None

    closed = stats.tick(datetime(2026, 11, 28, 0, 1, tzinfo=HALL_TZ))
    assert isinstance(closed, DayStats)
    assert closed.day == datetime(2026, 11, 27).date()
    assert closed.hall.answered == 1
    assert pause_of(closed, "01") == 60.0

    today = stats.today(datetime(2026, 11, 28, 0, 1, tzinfo=HALL_TZ))
    assert today.day == datetime(2026, 11, 28).date()
    assert today.hall.received == 0 and today.hall.answered == 0
    assert pause_of(today, "01") == 60.0
    assert stats.tick(datetime(2026, 11, 28, 9, 0, tzinfo=HALL_TZ)) is None


def test_snapshot_round_trip_carries_on_exactly() -> None:
    messages = load_transcript("08")
    split = find_event(messages, "AgentConnect") + 1
    whole = HallStats(seat_of=DIRECTORY.seat_id_for_member)
    Replay(messages, whole.apply, CAPTURE_START).rest()

    first = HallStats(seat_of=DIRECTORY.seat_id_for_member)
    run = Replay(messages, first.apply, CAPTURE_START)
    run.through_index(split - 1)
    saved = json.loads(json.dumps(first.to_dict()))
    restored = HallStats.from_dict(saved, seat_of=DIRECTORY.seat_id_for_member)
    assert restored.to_dict() == first.to_dict()
    rest = Replay(messages[split:], restored.apply, run.now)
    rest.rest()
    assert restored.today(rest.now) == whole.today(rest.now)


@pytest.mark.parametrize(
    "broken",
    [{}, {"version": 99}, {**HallStats().to_dict(), "hall": "x"}, {**HallStats().to_dict(), "day": "no"}],
)
def test_malformed_snapshot_is_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        HallStats.from_dict(broken)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        HallStats().apply({"Event": "QueueCallerJoin", "Uniqueid": "1"}, datetime(2026, 11, 27, 9, 0))


def test_resync_closes_a_pause_the_queue_no_longer_shows() -> None:
    stats = HallStats(seat_of=DIRECTORY.seat_id_for_member)
    run = Replay(load_transcript("05"), stats.apply, CAPTURE_START)
    run.through("QueueMemberPause", Paused="1")
    paused_at = run.now
    stats.begin_snapshot()
    for message in load_transcript("01"):  # QueueStatus lists "hotline" with nobody in it
        stats.apply(message, paused_at)
    stats.end_snapshot(paused_at + timedelta(seconds=30))
    seat = stats.today(paused_at + timedelta(hours=2)).seat("02")
    assert seat is not None and seat.pause_seconds == 30.0


def test_malformed_events_never_raise_and_count_conservatively() -> None:
    stats = HallStats()
    for event in [
        {},
        {"Event": "AgentConnect"},
        {"Event": "AgentConnect", "Uniqueid": "1", "HoldTime": "x"},
        {"Event": "AgentComplete", "Uniqueid": "2", "TalkTime": "-5"},
        {"Event": "QueueMemberPause", "MemberName": "01", "Queue": "q", "Paused": "?"},
        {"Event": "QueueCallerJoin"},
    ]:
        assert stats.apply(event, CAPTURE_START) is None
    hall = stats.today(CAPTURE_START).hall
    # The connect with an unreadable HoldTime is still an answered (so received) call, outside
    # the service level and without a wait for the average speed of answer.
    assert (hall.received, hall.answered, hall.answered_within_sl, hall.talk_seconds) == (1, 1, 0, 0)
    assert hall.average_speed_of_answer is None
    assert hall.answered == 1 and hall.answered_within_sl == 0  # connected, hold time unknown
