"""Run a profile: the parent supervises one worker process per model; the worker measures cells."""
