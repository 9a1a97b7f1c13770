"""Seats: the directory of 工号 and phones, the pure seat state machine, seat operations and routes.

Files: ``directory`` (seats from hotline.conf), ``fold`` (what every pure AMI fold shares: header
reading, frozen views), ``state`` (the pure seat board: AMI facts in, seat states and changes
out; it reads the phones' channels from the hall's call model through a port), ``ports`` (what
seats need of the hall above them: ChannelReader, QueueControl, SeatPicture), ``models`` (the
stored state changes), ``service`` (login, pause, resume, logout through the QueueControl port),
``errors`` (its refusals: hotline.errors.Refusal subclasses), ``deps`` (the SeatDesk the routes
are handed), ``api`` (the seat routes).

May import: base (``hotline.config``, ``hotline.db``, ``hotline.auth``, ``hotline.privacy``) and
``ivr.names``. Never telephony: seats stand below the hall, which implements ``ports`` and is
put together with them by the hall and hotline/wiring.py. Never voicemail, never the top floor.
The contracts are in pyproject.toml ([tool.importlinter]); tests/test_layers.py runs them.
"""
