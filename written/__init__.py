"""The written channels (网上民声, 市长信箱): intake, automatic audit, the manager's decisions.

Files: ``contact`` (pure: is the contact number real), ``audit`` (pure: substance, advert, repeat of
the same author's recent message by containment, contact, the department suggestion, and a
recommendation in Chinese), ``importer`` (CSV/XLSX rows, bad rows named), ``models`` (the stored
message), ``service`` (the thin shell: store, audit, decide, audit log), ``notify`` (the
``Notifier`` the composition root hands in: received and decided messages announced after commit,
as the live feed's ``messages`` kind; hotline/announce.py implements it), ``errors`` (its
refusals: hotline.errors.Refusal subclasses), ``api`` (routes).

Roles: the website's system posts with an operator token; the hall's manager (值班长) audits
with an operator token; monitors read with contact numbers masked (``hotline.privacy``).

May import: the standard library, base (``hotline.config``, ``hotline.db``, ``hotline.auth``,
``hotline.privacy``, ``hotline.errors``), ``remit`` (the department suggestion), openpyxl and
``voicemail.numbers`` (the one home of Chinese number formats). Never the top floor
(``hotline.wiring``, ``hotline.api``, ``hotline.web``, ``hotline.cli``), never ``telephony`` or
``seat_manager``.
"""
