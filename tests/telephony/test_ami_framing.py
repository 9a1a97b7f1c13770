"""The byte framer against AMI traffic recorded from the sandbox Asterisk 22 and against hostile input."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from telephony.ami import AmiFramer, Message, parse_frame
from telephony.ami.testing import BANNER, split_frames
from telephony.ami.testing import frame_headers as oracle_headers
from tests.ami_transcripts import transcript_files
from tests.ami_transcripts import wire_transcript as load_transcript

RANDOM_SEED = 12345
MAX_RANDOM_CHUNK = 700
READ_SIZE = 4096
ONE_MEGABYTE = 1024 * 1024
TERMINATOR_SLACK = 4  # a frame at the limit may wait with "\r\n\r" behind it

# Events per recording, counted once by hand-checked grep; pins the transcripts too (update
# these after `python -m tests.record_ami` re-records them).
EXPECTED_EVENTS = {
    "01-login-corestatus-queuestatus.txt": 4,
    "02-voicemail-closed-hours.txt": 22,
    "04-gotoiftime-routing.txt": 90,
    "05-queue-member-add-pause-remove.txt": 42,
    "06-threeway-confbridge-redirect.txt": 175,
    "07-threeway-bridgeadd.txt": 153,
    "08-sip-seat-baresip-queue-call.txt": 95,
    "09-sip-citizen-baresip-voicemail.txt": 16,
    "10-sip-seat-baresip-direct-call.txt": 20,
}

TRANSCRIPTS = transcript_files()


def feed_in(framer: AmiFramer, data: bytes, sizes: list[int] | int) -> list[Message]:
    """Feed ``data`` in chunks of the given size(s); collect every message."""
    out: list[Message] = []
    position = 0
    index = 0
    while position < len(data):
        size = sizes if isinstance(sizes, int) else sizes[index % len(sizes)]
        out.extend(framer.feed(data[position : position + size]))
        position += size
        index += 1
    return out


def random_sizes(seed: int, count: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, MAX_RANDOM_CHUNK) for _ in range(count)]


def test_all_captures_present() -> None:
    names = {path.name for path in TRANSCRIPTS}
    assert set(EXPECTED_EVENTS) <= names


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda path: path.name)
def test_transcript_replay_matches_whole_file_parse(path: Path) -> None:
    raw = load_transcript(path)
    stream = BANNER + raw
    oracle = [oracle_headers(frame) for frame in split_frames(raw)]

    whole = AmiFramer().feed(stream)
    random_chunks = feed_in(AmiFramer(), stream, random_sizes(RANDOM_SEED, 1000))
    one_byte = feed_in(AmiFramer(), stream, 1)
    reads = feed_in(AmiFramer(), stream, READ_SIZE)

    assert [list(m.headers) for m in whole] == oracle
    assert random_chunks == whole
    assert one_byte == whole
    assert reads == whole
    events = [m for m in whole if m.kind == "event"]
    grep_count = sum(1 for line in raw.split(b"\r\n") if line.startswith(b"Event: "))
    assert len(events) == grep_count
    if path.name in EXPECTED_EVENTS:
        assert len(events) == EXPECTED_EVENTS[path.name]
    assert all(m.kind in ("event", "response") for m in whole)
    assert not any(m.lossy for m in whole)


def test_framer_leaves_nothing_buffered_and_records_banner() -> None:
    framer = AmiFramer()
    messages = feed_in(framer, BANNER + load_transcript(TRANSCRIPTS[0]), 3)
    assert framer.banner == "11.0.0"
    assert framer.buffered == 0
    assert messages[0].kind == "response" and messages[0]["Message"] == "Authentication accepted"
    assert framer.stats.messages == len(messages)


def test_banner_split_across_reads() -> None:
    framer = AmiFramer()
    assert framer.feed(b"Asterisk Call") == []
    assert framer.feed(b" Manager/11.0") == []
    out = framer.feed(b".0\r\nEvent: FullyBooted\r\nStatus: Fully Booted\r\n\r\n")
    assert framer.banner == "11.0.0"
    assert [m.name for m in out] == ["FullyBooted"]


def test_stream_without_banner_is_parsed_from_first_byte() -> None:
    out = AmiFramer().feed(b"Event: Ping\r\n\r\n")
    assert [m.name for m in out] == ["Ping"]


CHINESE_EVENT = (
    "Event: Newchannel\r\nChannel: PJSIP/seat01-00000001\r\nCallerIDNum: 13800138000\r\n"
    "CallerIDName: 张三丰\r\nUniqueid: 1795813125.18\r\n\r\n"
).encode()


def test_chinese_caller_name_fed_one_byte_at_a_time() -> None:
    messages = feed_in(AmiFramer(), CHINESE_EVENT, 1)
    assert len(messages) == 1
    assert messages[0]["CallerIDName"] == "张三丰"
    assert not messages[0].lossy


def test_chinese_name_split_at_every_position() -> None:
    for cut in range(1, len(CHINESE_EVENT)):
        framer = AmiFramer()
        out = framer.feed(CHINESE_EVENT[:cut]) + framer.feed(CHINESE_EVENT[cut:])
        assert [m["calleridname"] for m in out] == ["张三丰"], cut


def test_bare_lf_and_mixed_boundaries_are_tolerated() -> None:
    data = b"Event: A\nKey: 1\n\nEvent: B\r\nKey: 2\r\n\nEvent: C\r\nKey: 3\r\n\r\nEvent: D\nKey: 4\r\n\r\n"
    for size in (1, 2, 5, len(data)):
        out = feed_in(AmiFramer(), data, size)
        assert [(m.name, m["Key"]) for m in out] == [("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")]


def test_extra_blank_lines_make_no_messages() -> None:
    # QueueRule ends its response with two blank lines instead of one.
    data = (
        b"Response: Success\r\nActionID: x\r\nRuleList: slow\r\nRule: 60,+5,+10\r\n\r\n\r\n"
        b"\r\n\r\nEvent: After\r\n\r\n"
    )
    framer = AmiFramer()
    out = feed_in(framer, data, 1)
    assert [m.name for m in out] == ["Success", "After"]
    assert out[0].getall("Rule") == ["60,+5,+10"]
    assert framer.stats.bad_lines == 0


def test_repeated_headers_keep_all_values_first_wins() -> None:
    data = b"Event: Newchannel\r\nChanVariable: FROM=1\r\nChanVariable: TO=2\r\nchanvariable: THIRD=3\r\n\r\n"
    (message,) = AmiFramer().feed(data)
    assert message["ChanVariable"] == "FROM=1"
    assert message.getall("CHANVARIABLE") == ["FROM=1", "TO=2", "THIRD=3"]
    assert list(message) == ["Event", "ChanVariable"]
    assert len(message) == 2


def test_line_without_colon_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    data = b"Event: Hangup\r\nthis line is garbage\r\nChannel: PJSIP/seat01\r\n\r\nEvent: Next\r\n\r\n"
    framer = AmiFramer()
    with caplog.at_level(logging.WARNING, logger="telephony.ami.framing"):
        out = feed_in(framer, data, 7)
    assert [m.name for m in out] == ["Hangup", "Next"]
    assert out[0]["Channel"] == "PJSIP/seat01"
    assert "this line is garbage" not in out[0]
    assert framer.stats.bad_lines == 1
    assert "without ':'" in caplog.text


def test_colon_without_space_is_accepted() -> None:
    (message,) = AmiFramer().feed(b"Event:Odd\r\nValue:\r\nOther: x\r\n\r\n")
    assert message.name == "Odd"
    assert message["Value"] == ""
    assert message["Other"] == "x"


def test_frame_of_pure_garbage_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="telephony.ami.framing"):
        out = AmiFramer().feed(b"hello there\r\n\r\nEvent: Fine\r\n\r\n")
    assert [m.name for m in out] == ["Fine"]
    assert "hello there" in caplog.text


def test_invalid_utf8_is_kept_flagged_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    data = b"Event: Newchannel\r\nCallerIDName: \xff\xfe\xe5\xbc\r\nUniqueid: 1.1\r\n\r\n" + CHINESE_EVENT
    framer = AmiFramer()
    with caplog.at_level(logging.WARNING, logger="telephony.ami.framing"):
        out = feed_in(framer, data, 3)
    assert len(out) == 2
    assert out[0].lossy
    assert "\ufffd" in out[0]["CallerIDName"]
    assert out[0]["Uniqueid"] == "1.1"
    assert not out[1].lossy and out[1]["CallerIDName"] == "张三丰"
    assert framer.stats.lossy_frames == 1
    assert "not valid UTF-8" in caplog.text


def test_unknown_event_is_parsed_and_later_messages_follow() -> None:
    data = b"Event: SomethingNewInAsterisk23\r\nFoo: bar\r\n\r\nEvent: Hangup\r\n\r\n"
    out = AmiFramer().feed(data)
    assert [m.name for m in out] == ["SomethingNewInAsterisk23", "Hangup"]
    assert out[0].kind == "event"


def one_megabyte_frame() -> bytes:
    return b"Event: Huge\r\nData: " + b"x" * ONE_MEGABYTE + b"\r\n\r\n"


AFTER_HUGE = b"Event: After\r\nUniqueid: 2.2\r\n\r\n"


def test_one_megabyte_header_discarded_with_bounded_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    framer = AmiFramer()
    data = b"Event: Before\r\n\r\n" + one_megabyte_frame() + AFTER_HUGE
    out: list[Message] = []
    peak = 0
    with caplog.at_level(logging.WARNING, logger="telephony.ami.framing"):
        for position in range(0, len(data), READ_SIZE):
            out.extend(framer.feed(data[position : position + READ_SIZE]))
            peak = max(peak, framer.buffered)
    assert [m.name for m in out] == ["Before", "After"]
    assert out[1]["Uniqueid"] == "2.2"
    assert peak <= framer.max_frame_bytes + TERMINATOR_SLACK + READ_SIZE
    assert framer.stats.oversized_frames == 1
    assert "exceeds" in caplog.text
    assert framer.buffered == 0


def test_oversized_frame_in_a_single_read_is_discarded() -> None:
    framer = AmiFramer()
    out = framer.feed(one_megabyte_frame() + AFTER_HUGE)
    assert [m.name for m in out] == ["After"]
    assert framer.stats.oversized_frames == 1


def test_oversized_frame_fed_byte_by_byte_with_small_limit() -> None:
    limit = 1024
    framer = AmiFramer(max_frame_bytes=limit)
    data = b"Event: Big\r\nData: " + b"y" * (limit * 10) + b"\r\n\r\n" + AFTER_HUGE
    out: list[Message] = []
    peak = 0
    for position in range(len(data)):
        out.extend(framer.feed(data[position : position + 1]))
        peak = max(peak, framer.buffered)
    assert [m.name for m in out] == ["After"]
    assert peak <= limit + TERMINATOR_SLACK + 1
    assert framer.stats.oversized_frames == 1


def test_frame_exactly_at_limit_is_kept() -> None:
    frame = b"Event: Edge\r\nData: " + b"z" * 100
    framer = AmiFramer(max_frame_bytes=len(frame))
    out = feed_in(framer, frame + b"\r\n\r\n", 9)
    assert [m.name for m in out] == ["Edge"]


def test_parse_frame_direct() -> None:
    message = parse_frame(b"Response: Success\r\nActionID: hotline-7\r\nMessage: ok")
    assert message is not None
    assert (message.kind, message.name, message.action_id) == ("response", "Success", "hotline-7")
    assert parse_frame(b"") is None
    assert parse_frame(b"\r\n") is None


def test_invalid_limit_rejected() -> None:
    with pytest.raises(ValueError):
        AmiFramer(max_frame_bytes=0)
