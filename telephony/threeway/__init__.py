"""Three-way calls (三方通话): an operator brings a department expert into the citizen's call.

Mechanism: the expert is originated as ``Local/<ext>@hotline-expert`` straight into a ConfBridge
room named after the session; only when the expert has answered (and heard the whisper) does one
AMI ``Redirect`` with ``ExtraChannel`` move the citizen and the operator from their queue bridge
into the same room. While the expert rings, citizen and operator keep talking in their own bridge.

Why ConfBridge rather than BridgeAdd into the existing bridge: the queue's bridge is a basic
bridge that dissolves as soon as any party hangs up, so "the operator leaves, citizen and expert
keep talking" cannot work there; a ConfBridge room (no ``end_marked``) survives any one party
leaving, gives each party a channel we can kick or hang up on its own, and its
ConfbridgeJoin/Leave events name the room, which keeps the session's state machine simple.

The operator is tracked by the seat phone's own channel, not the seat's Local member channel
in the queue bridge (Asterisk optimises that away once the 工号 announcement ends; its hang-up is
not the operator's). The expert's ring time is enforced by the service and stops counting when
their phone answers, so the whisper is not cut off by the Originate's timeout.

Pieces: ``session`` (the model), ``machine`` (pure transitions driven by AMI events, returning
commands), ``directory`` (departments and duty), ``service`` (runs commands over AMI),
``models``/``store`` (the stored record), ``errors`` (the refusals, the machine's included),
``api`` (routes). The service follows the hall monitor (``HallMonitor.follow``): it sees each
event after the call book applied it.
"""
