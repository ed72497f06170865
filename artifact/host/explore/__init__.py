"""`explore`: a seeded multi-objective search (Optuna) that chooses new configurations to measure.

Every trial is an ordinary cell, measured by the device side's `run` with the same harness and written
as a record beside the profile's own cells; the study lives in the results directory (explore.db,
SQLite), so a search is resumable and inspectable.
"""
