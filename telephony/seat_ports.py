"""The hall's side of the seats' ports (seat_manager.ports): the queue asked over AMI.

The seat service states what it wants of Asterisk's queue (add, remove, pause a member); this
turns it into QueueAdd / QueueRemove / QueuePause and the AMI's failures into seat refusals.
"""

from __future__ import annotations

from seat_manager.directory import Seat
from seat_manager.errors import PbxRefused, PbxTimeout, PbxUnreachable
from telephony.ami import AmiActionError, AmiClient, AmiNotConnected, AmiTimeout


class AmiQueueControl:
    """`seat_manager.ports.QueueControl` over the hall's AMI client."""

    def __init__(self, client: AmiClient) -> None:
        self.client = client

    async def add_member(self, queue: str, seat: Seat) -> str | None:
        return await self._ask("QueueAdd", Queue=queue, Interface=seat.interface,
                               StateInterface=seat.state_interface, MemberName=seat.member_name,
                               Paused="false")

    async def remove_member(self, queue: str, seat: Seat) -> str | None:
        return await self._ask("QueueRemove", Queue=queue, Interface=seat.interface)

    async def pause_member(self, queue: str, seat: Seat, paused: bool,
                           reason: str | None = None) -> str | None:
        headers = {"Reason": reason} if reason is not None else {}
        return await self._ask("QueuePause", Queue=queue, Interface=seat.interface,
                               Paused="true" if paused else "false", **headers)

    async def _ask(self, action: str, **headers: str) -> str | None:
        try:
            response = await self.client.send_action(action, **headers)
        except AmiNotConnected as exc:
            raise PbxUnreachable(f"无法连接交换机：{exc}") from None
        except AmiTimeout as exc:
            raise PbxTimeout(f"交换机未应答：{exc}") from None
        except AmiActionError as exc:
            reason = exc.message.get("Message") or "未说明原因"
            raise PbxRefused(f"Asterisk 拒绝了 {action}：{reason}") from None
        return response.get("Message")
