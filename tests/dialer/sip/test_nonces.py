"""The nonce book: tied to a source, counts must rise, bounded and expired from the front."""

from dialer.sip.nonces import NonceBook, Verdict

PHONE, OTHER = ("10.0.0.5", 5062), ("10.0.0.6", 5062)


def test_probe_5_a_nonce_answers_from_its_source_with_rising_counts_only() -> None:
    book = NonceBook()
    book.issue("n1", PHONE, 0.0)
    assert book.check("n1", OTHER, 1, 1.0) is Verdict.OTHER_SOURCE
    assert book.check("n1", ("10.0.0.5", 5064), 1, 1.0) is Verdict.OTHER_SOURCE  # a source is host and port
    assert book.check("n1", PHONE, 1, 1.0) is Verdict.FRESH
    assert book.check("n1", PHONE, 1, 1.0) is Verdict.FRESH  # checking uses nothing up
    assert book.use("n1", PHONE, 1, 1.0) is Verdict.FRESH
    assert book.use("n1", PHONE, 1, 2.0) is Verdict.REPLAYED
    assert book.use("n1", PHONE, 3, 2.0) is Verdict.FRESH  # counts may skip, never repeat or fall
    assert book.use("n1", PHONE, 2, 3.0) is Verdict.REPLAYED
    assert book.check("n2", PHONE, 1, 3.0) is Verdict.UNKNOWN


def test_probe_8_nonces_expire_and_the_book_is_bounded() -> None:
    book = NonceBook(ttl_s=300, capacity=100)
    for n in range(1000):
        book.issue(f"n{n}", PHONE, n * 0.01)
    assert len(book) == 100
    assert book.check("n899", PHONE, 1, 10.0) is Verdict.UNKNOWN  # evicted, oldest first
    assert book.check("n900", PHONE, 1, 10.0) is Verdict.FRESH
    assert book.check("n999", PHONE, 1, 9.99 + 300) is Verdict.UNKNOWN  # expired
    assert len(book) == 0
