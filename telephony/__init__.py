"""The hall: Asterisk watched over AMI, the call model, live counters and the queue's books.

Files: ``ami/`` (the asyncio AMI client: framing on bytes, actions, reconnect, resync, keepalive),
``calls`` (the pure call model), ``monitor`` (feeds AMI events to the seat board and the calls,
then to its followers: the three-way service), ``hall`` (the component that owns client, board,
counters and recorder), ``stats`` (today's live counters), ``recorder`` (writes state changes and
finished calls), ``queue_log`` (pure fold of Asterisk's queue_log) and ``queue_log_reader`` (its
shell: books what the live path missed), ``live`` (what the hall publishes on the live feed),
``api`` and ``deps`` (call and queue routes), ``errors`` (its refusals), ``threeway/`` (三方通话).

May import: base (``hotline.config``, ``hotline.db``, ``hotline.auth``, ``hotline.privacy``,
``hotline.tasks``, ``hotline.live``), ``seat_manager`` (seats stand below the hall) and ``ivr.names``.
Never voicemail (they meet through ports wiring hands in) and never the top floor. The contracts
are in pyproject.toml ([tool.importlinter]); tests/test_layers.py runs them.
"""
