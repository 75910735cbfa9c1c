"""Renderers: turn the results model into files and text. They never recompute verdicts."""
