"""Seats: the directory of 工号 and phones, the pure seat state machine, seat operations and routes.

Files: ``directory`` (seats from hotline.conf), ``state`` (the pure seat board: AMI facts in,
seat states and changes out), ``models`` (the stored state changes), ``service`` (login, pause,
resume, logout through the queue), ``errors`` (its refusals: hotline.errors.Refusal subclasses),
``api`` (the seat routes).

May import: base and ``ivr.names``. Seats stand below the hall: telephony may import
seat_manager, not the reverse; the places that still reach up (the call model used by the board,
the hall handed to the routes) are listed as debt in pyproject.toml's contracts (issue 14).
"""
