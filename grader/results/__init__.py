"""Results: the plain-data model of a grading run and the SQLite gradebook."""
