"""The student release (`python -m grader release --out DIR`): the template notebook with the
self-check kit's cells, the kit's wheel with a public exam whose answers are sealed, and a README
for students; proven free of solution code by `leaks.py`. See docs/students.md.
"""
