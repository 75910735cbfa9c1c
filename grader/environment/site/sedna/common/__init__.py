"""Helpers shared by the Sedna-compatible layer."""
