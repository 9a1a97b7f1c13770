"""Every PBX name of a seat leads back to it, for the project's wiring and the transcripts'."""

from __future__ import annotations

import pytest

from seat_manager.directory import Seat, SeatDirectory, device_of_channel, device_of_interface


@pytest.fixture
def project() -> SeatDirectory:
    return SeatDirectory([Seat.standard("01", "1001"), Seat.standard("02", "1002")])


def test_standard_seat_is_wired_through_a_local_member(project: SeatDirectory) -> None:
    seat = project.get("01")
    assert seat is not None
    assert seat.interface == "Local/01@hotline-seat"
    assert seat.state_interface == "PJSIP/1001"
    assert seat.member_name == "01"
    assert seat.device == "PJSIP/1001"


def test_lookups_of_the_project_names(project: SeatDirectory) -> None:
    one = project.get("01")
    assert project.by_endpoint("1001") is one
    assert project.by_device("PJSIP/1001") is one
    assert project.by_member_name("01") is one
    assert project.by_interface("Local/01@hotline-seat") is one
    assert project.by_interface("Local/01@hotline-seat/n") is one
    assert project.by_channel("PJSIP/1001-0000002a") is one
    assert project.by_channel("Local/01@hotline-seat-0000001c;1") is one
    assert project.by_channel("Local/01@hotline-seat-0000001c;2") is one
    assert project.resolve_member("01", "Local/01@hotline-seat") is one
    assert project.seat_id_for_member("", "Local/02@hotline-seat") == "02"


def test_local_member_channels_are_not_the_phone(project: SeatDirectory) -> None:
    assert project.by_phone_channel("Local/01@hotline-seat-0000001c;2") is None
    assert project.by_phone_channel("PJSIP/1001-0000002a") is project.get("01")


def test_device_state_of_the_local_member_is_not_the_phone_state(project: SeatDirectory) -> None:
    # The Local member is INUSE while the announcement plays and the phone still rings.
    assert project.by_device("Local/01@hotline-seat") is None


def test_unknown_and_look_alike_names_give_none(project: SeatDirectory) -> None:
    assert project.by_endpoint("1003") is None
    assert project.by_channel("PJSIP/10010-0000002a") is None
    assert project.by_channel("PJSIP/1001") is None
    assert project.by_channel("") is None
    assert project.by_device("Queue:hotline_avail") is None
    assert project.by_member_name("") is None
    assert project.seat_id_for_member("99", "Local/99@hotline-seat") is None


def test_transcript_names_work_too() -> None:
    directory = SeatDirectory(
        [
            Seat("01", "seat01", "seat01", "PJSIP/seat01", "PJSIP/seat01"),
            Seat("02", "seat02", "Seat 02", "PJSIP/seat02", "Custom:seat02"),
            Seat("03", "sim03", "seat03", "Local/seat03@sim-seat/n", "Local/seat03@sim-seat/n"),
        ]
    )
    assert directory.by_member_name("seat01") is directory.get("01")
    assert directory.by_interface("PJSIP/seat01") is directory.get("01")
    assert directory.by_channel("PJSIP/seat01-00000000") is directory.get("01")
    assert directory.by_member_name("Seat 02") is directory.get("02")
    assert directory.by_device("Custom:seat02") is directory.get("02")
    assert directory.by_device("PJSIP/seat02") is directory.get("02")
    assert directory.by_channel("Local/seat03@sim-seat-0000000a;1") is directory.get("03")
    assert directory.by_phone_channel("Local/seat03@sim-seat-0000000a;1") is directory.get("03")
    assert directory.by_device("Local/seat03@sim-seat") is directory.get("03")
    assert [seat.seat_id for seat in directory] == ["01", "02", "03"]
    assert len(directory) == 3
    assert "02" in directory


def test_two_seats_sharing_a_name_are_refused() -> None:
    with pytest.raises(ValueError, match="endpoint '1001'"):
        SeatDirectory([Seat.standard("01", "1001"), Seat.standard("02", "1001")])


@pytest.mark.parametrize(
    ("channel", "device"),
    [
        ("PJSIP/1001-0000002a", "PJSIP/1001"),
        ("Local/01@hotline-seat-0000001c;1", "Local/01@hotline-seat"),
        ("Local/talk@sim-citizen-0000000c;2", "Local/talk@sim-citizen"),
        ("PJSIP/seat01-00000000<ZOMBIE>", "PJSIP/seat01"),
        ("PJSIP/1001", None),
        ("garbage", None),
    ],
)
def test_device_of_channel(channel: str, device: str | None) -> None:
    assert device_of_channel(channel) == device


def test_device_of_interface_drops_local_options_only() -> None:
    assert device_of_interface("Local/seat01@sim-seat/n") == "Local/seat01@sim-seat"
    assert device_of_interface("PJSIP/1001") == "PJSIP/1001"
    assert device_of_interface("Custom:seat02") == "Custom:seat02"
