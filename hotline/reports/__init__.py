"""The supervisors' reports page (/reports): what it shows, folded from the store, and its exports.

Files:
- fold.py: pure folds over telephony.reports' figures (calls per hour of one day, the same weekday
  of the last four weeks, the voicemail funnel); no database, no HTTP.
- api.py: the thin shell: loads from telephony.report_store, answers /api/reports (JSON for the
  page) and its exports (CSV with telephony.stats_api.to_csv, XLSX with openpyxl).

The KPIs themselves (service level, average speed of answer, answer and abandon rates, talk time,
pause time) have one definition each, in telephony/reports.py; this package only arranges them.

Top floor: may import base (hotline.auth, hotline.config, hotline.db) and the capabilities
(telephony, voicemail, seat_manager); nothing imports it but the wiring.
"""
