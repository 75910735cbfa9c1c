"""Notebook stages: load, solution markers, sanitizing preprocessors, execution, extraction."""
