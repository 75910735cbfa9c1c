"""Sedna's job-level APIs (only federated learning exists here)."""
