"""Days-past-due buckets, by name: the vocabulary of segments (`cases.segments`).

Apart from the queries that use them, so that the command line can list them in its help without loading
SQLAlchemy (`dunline --help`, issue 21).
"""

DPD_BUCKETS: dict[str, tuple[int, int | None]] = {
    "current": (0, 0), "1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "91-180": (91, 180),
    "180+": (181, None),
}
