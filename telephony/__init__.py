"""The hall: Asterisk watched over AMI, the call model, live counters and the queue's books.

Files: ``ami/`` (the asyncio AMI client: framing on bytes, actions, reconnect, resync, keepalive;
``ami/testing`` the replay client tests and benchmarks connect it to), ``calls`` (the pure call
model: channels, bridges, rooms, calls, the queue), ``picture`` (pure: the call model and the seat
board side by side, each event folded into both, calls first), ``monitor`` (its shell: feeds the
AMI stream into the picture and the counters, tells listeners, then its followers: the three-way
service; it is the seats' SeatPicture port), ``hall`` (the component that owns client, picture,
counters, recorder and services), ``seat_ports`` (the seats' QueueControl port over AMI),
``callback_dial`` (voicemail's CallbackDialler port over AMI; wiring hands it in), ``kpi`` (each
key figure defined once, for the live counters and the reports), ``live_counters`` (today's live
counters), ``recorder`` (writes state changes and finished calls), ``queue_log`` (pure fold of
Asterisk's queue_log) and ``queue_log_reader`` (its shell: books what the live path missed),
``hall_feed`` (what the hall publishes on the base's live feed), ``api`` and ``deps`` (call and
queue routes), ``errors`` (its refusals), ``threeway/`` (三方通话).

Several nodes on one PostgreSQL (``hotline.cluster``): every node's hall follows Asterisk and
keeps its own picture; only the holder of the PBX's bridge lease writes (``Hall.follow_lease``:
the recorder, the queue_log books, the take-up of stored three-way sessions). A node without the
lease keeps the last minute of what it would have written, and writes it on taking over.

May import: base (``hotline.config``, ``hotline.db``, ``hotline.auth``, ``hotline.privacy``,
``hotline.tasks``, ``hotline.live``), ``seat_manager`` (seats stand below the hall: the hall
implements their ports) and ``ivr.names``. Never voicemail (they meet through ports wiring hands
in) and never the top floor. The contracts are in pyproject.toml ([tool.importlinter]);
tests/test_layers.py runs them.
"""
