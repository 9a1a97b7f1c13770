"""The written channels (网上民声, 市长信箱): intake, automatic audit, the manager's decisions.

Files: ``contact`` (pure: is the contact number real).

May import: the standard library, base (``hotline.config``, ``hotline.db``, ``hotline.auth``,
``hotline.privacy``), ``remit`` (the department suggestion) and ``voicemail.numbers`` (the one home
of Chinese number formats). Never the top floor (``hotline.wiring``, ``hotline.api``, ``hotline.web``,
``hotline.cli``), never ``telephony`` or ``seat_manager``.
"""
