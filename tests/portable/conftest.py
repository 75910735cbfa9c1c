"""Tests of `grader/portable/`, the rules the grader and the self-check kit share."""
