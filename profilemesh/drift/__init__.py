"""Drift detection: the calibrated strategy and its series (calibrated.py, series.py), the threshold and
statistical strategies (strategies.py), the command that writes events (detector.py), accepting a
change (accept.py) and replaying history (backtest.py)."""

EVENT_ID_PREFIX = 8  # characters of an event id that `drift` prints and `drift accept` takes
