"""Remit (三定方案): which department a citizen's words belong to, for every channel alike.

Voicemail transcripts and the written channels (网上民声, 市长信箱) ask the same question through
one function, ``remit.suggest.suggest(text, table)``. The table itself is configuration
(``hotline/config/remit.py``, the file named by ``[remit] file``); this package only reads it.

Files: ``suggest`` (pure: jieba segmentation, scoring, overlaps, the Chinese reason).

May import: the standard library, jieba, and ``hotline.config.remit`` (base). Nothing else of the
project: no database, no web, no other capability.
"""
