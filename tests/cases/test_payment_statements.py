"""Payment statements: three sources, CSV and XLSX, all-or-nothing with the bad row and column named."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from cases.statements import (EXAMPLES, StatementError, StatementErrors, StatementMapping, StatementSource,
                              read_statement)

ALIPAY = [["支付宝交易号", "商户订单号", "交易时间", "对方名称", "金额", "收/支", "备注"],
          ["2026031022001", "LN-0001-3", "2026-03-10 09:15:00", "张三", "500.00", "收入", "还款"],
          ["2026031022002", "", "2026-03-10 09:20:00", "服务费", "6.00", "支出", ""],
          ["2026031022003", "", "2026/03/11 18:00:00", "李四", "1,200.00", "收入", "LN-0002"]]
WECHAT = [["交易时间", "微信支付订单号", "商户订单号", "付款人", "订单金额", "交易状态", "附言"],
          ["2026-03-12 08:00:00", "4200001", "LN-0003", "王五", "300", "SUCCESS", ""],
          ["2026-03-12 08:05:00", "4200002", "", "王五", "300", "REFUND", ""]]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(f'"{c}"' for c in row) for row in rows) + "\n", encoding="gb18030")
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_bank_example_reads_with_its_shipped_mapping():
    lines = read_statement(EXAMPLES / "bank.csv", StatementSource.BANK)
    assert [(l.txn_id, l.amount, l.payer_name, l.memo) for l in lines] == [
        ("B20260310000001", Decimal("500.00"), "张三", "还款 LN-0001"),
        ("B20260310000002", Decimal("1200.00"), "李四", None)]
    assert lines[0].paid_at == datetime(2026, 3, 10, 9, 15)


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_alipay_keeps_income_only_in_csv_and_xlsx(tmp_path, writer):
    path = writer(tmp_path / f"alipay{'.csv' if writer is write_csv else '.xlsx'}", ALIPAY)
    lines = read_statement(path, StatementSource.ALIPAY)
    assert [(l.row, l.txn_id, l.amount, l.order_id) for l in lines] == [
        (2, "2026031022001", Decimal("500.00"), "LN-0001-3"), (4, "2026031022003", Decimal("1200.00"), None)]
    assert lines[1].paid_at == datetime(2026, 3, 11, 18)


def test_wechat_xlsx_with_native_cells(tmp_path):
    rows = [WECHAT[0], [datetime(2026, 3, 12, 8), 4200001.0, "LN-0003", "王五", 300.5, "SUCCESS", None]]
    (line,) = read_statement(write_xlsx(tmp_path / "wx.xlsx", rows), StatementSource.WECHAT)
    assert (line.txn_id, line.amount, line.paid_at, line.memo) == ("4200001", Decimal("300.50"),
                                                                   datetime(2026, 3, 12, 8), None)


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_a_bad_row_imports_nothing_and_names_row_and_column(tmp_path, writer):
    rows = [r[:] for r in WECHAT[:2]] + [["2026-13-40", "4200009", "", "赵六", "abc", "SUCCESS", ""],
                                         ["2026-03-12 09:00:00", "4200001", "", "王五", "-5", "SUCCESS", ""]]
    path = writer(tmp_path / f"wx{'.csv' if writer is write_csv else '.xlsx'}", rows)
    with pytest.raises(StatementErrors) as caught:
        read_statement(path, StatementSource.WECHAT)
    assert [(e.row, e.column, e.reason) for e in caught.value.errors] == [
        (3, "交易时间", "not a date and time (e.g. 2026-03-10 14:05:00)"),
        (3, "订单金额", "not an amount"),
        (4, "微信支付订单号", "same transaction id as row 2"),
        (4, "订单金额", "a payment must be more than zero")]
    assert "nothing imported" in str(caught.value)


def test_missing_column_and_bad_mapping_are_named(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["交易时间", "金额"], ["2026-03-10", "5"]])
    with pytest.raises(StatementError, match="txn_id .'支付宝交易号'."):
        read_statement(path, StatementSource.ALIPAY)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nbalance = "余额"\n', encoding="utf-8")
    with pytest.raises(StatementError, match="balance"):
        StatementMapping.load(mapping)


def test_custom_mapping_file(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\ntxn_id = "流水"\npaid_at = "日期"\namount = "收入金额"\nmemo = "用途"\n',
                       encoding="utf-8")
    path = write_csv(tmp_path / "s.csv", [["日期", "流水", "收入金额", "用途"], ["20260310", "X1", "¥88.80", "LN-9"]])
    (line,) = read_statement(path, StatementSource.BANK, StatementMapping.load(mapping))
    assert (line.txn_id, line.amount, line.paid_at, line.memo) == ("X1", Decimal("88.80"), datetime(2026, 3, 10),
                                                                   "LN-9")
