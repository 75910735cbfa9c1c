"""Autograder for week 5 of "Applied Edge AI": federated learning with Sedna and Plato."""

__version__ = "0.3.0"
