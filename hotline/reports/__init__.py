"""Hall-wide reports (the top floor): the range statistics (/api/stats and its CSV), the
supervisors' reports page (/reports) and their exports. They read the hall's call records and the
voicemail register alike, so they live above both capabilities.

Files:
- figures.py: the range report's figures, pure: one definition of each KPI (service level,
  average speed of answer, answer and abandon rates, talk and pause time, voicemail outcomes).
- store.py: loads a range's figures from the store (SQL aggregates; SQLite and PostgreSQL).
- stats_api.py: /api/stats and /api/stats/export.csv.
- fold.py: pure folds over the figures for the page (calls per hour of one day, the same weekday
  of the last four weeks, the voicemail funnel); no database, no HTTP.
- api.py: the thin shell of /api/reports (JSON for the page) and its CSV and XLSX exports.
- errors.py: their refusals (a bad day or range, an unknown hall), in the one refusal shape.

Top floor: may import base (hotline.auth, hotline.config, hotline.db) and the capabilities
(telephony, voicemail, seat_manager); nothing imports it but the wiring and hotline.status.
"""
