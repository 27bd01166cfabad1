"""Back-off for wrong digest answers: blocks after the limit, doubles on repeat, forgives a success."""

from dialer.sip.lockout import MAX_BLOCK_S, Lockout


def test_probe_6_blocks_after_max_failures_and_backs_off() -> None:
    table = Lockout(max_failures=3, block_s=60)
    assert [table.failed("10.6.6.6", t) for t in (0, 1, 2)] == [0, 0, 60]
    assert table.blocked_for("10.6.6.6", 32) == 30 and table.blocked_for("10.0.0.5", 30) == 0
    assert table.blocked_for("10.6.6.6", 62) == 0
    assert [table.failed("10.6.6.6", t) for t in (63, 64, 65)] == [0, 0, 120]  # the second block is twice as long
    table.succeeded("10.6.6.6")
    assert table.blocked_for("10.6.6.6", 66) == 0
    assert [table.failed("10.6.6.6", t) for t in (70, 71, 72)] == [0, 0, 60]  # a success forgives the past


def test_failures_far_apart_do_not_add_up_and_blocks_are_capped() -> None:
    table = Lockout(max_failures=3, block_s=60)
    assert [table.failed("u", t) for t in (0, 100, 200, 300)] == [0, 0, 0, 0]
    patient = Lockout(max_failures=1, block_s=3600)
    blocks = [patient.failed("u", n * 100_000.0 / 4) for n in range(12)]
    assert max(blocks) == MAX_BLOCK_S


def test_the_table_is_bounded() -> None:
    table = Lockout(max_failures=2, block_s=60, capacity=50)
    for n in range(500):
        table.failed(f"10.0.{n // 256}.{n % 256}", 0)
    assert len(table) == 50
