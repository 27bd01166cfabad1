"""The learned layer's parts: hashed n-grams, passages of long turns, fitting, and the stored file."""

from pathlib import Path

import numpy as np

from compliance.screening.model import load_layer, save_layer
from compliance.screening.ngrams import NGRAM_DIM, hashed_rows, ngrams
from compliance.screening.train import EMBEDDING, NGRAM, DenseRows, fit_logistic
from compliance.screening.windows import WINDOW_CHARS, WINDOW_WORDS, passages


def test_ngrams_per_language() -> None:
    zh = ngrams("爆通讯录ok", "zh")
    assert {"爆", "爆通", "爆通讯", "讯录", "w:ok"} <= set(zh) and "爆通讯录" not in zh
    en = ngrams("statue of limitations", "en")
    assert {"w:statue", "b:statue of", "c:<sta", "c:ons>"} <= set(en)
    assert ngrams("", "en") == [] and ngrams("，。", "zh") == []


def test_hashed_rows_match_the_dense_product() -> None:
    rows = hashed_rows(["you owe it", "", "你欠钱了"], ["en", "en", "zh"])
    dense = np.zeros((rows.rows, NGRAM_DIM))
    for r in range(rows.rows):
        dense[r, rows.indices[rows.indptr[r]:rows.indptr[r + 1]]] = rows.values[rows.indptr[r]:rows.indptr[r + 1]]
    assert np.allclose(np.linalg.norm(dense, axis=1), 1.0)
    rng = np.random.default_rng(1)
    w, e = rng.normal(size=(NGRAM_DIM, 3)), rng.normal(size=rows.rows)
    assert np.allclose(rows.dot(w), dense @ w) and np.allclose(rows.dot(w[:, 0]), dense @ w[:, 0])
    assert np.allclose(rows.tdot(e), dense.T @ e)
    picked = rows.take(np.array([True, False, True]))
    assert picked.rows == 2 and np.allclose(picked.dot(w), (dense @ w)[[0, 2]])


def test_passages_are_the_whole_turn_then_overlapping_windows() -> None:
    assert [p.text for p in passages("stop calling me", "en")] == ["stop calling me"]
    text = " ".join(f"w{i}" for i in range(30))
    got = passages(text, "en")
    assert (got[0].text, got[0].start, got[0].end) == (text, 0, len(text))
    assert all(p.text == text[p.start:p.end] and len(p.text.split()) <= WINDOW_WORDS for p in got[1:])
    assert {w for p in got[1:] for w in p.text.split()} == set(text.split())  # every word is in some window
    text = "一" * 20 + "我知道你住哪" + "二" * 20
    windows = passages(text, "zh")[1:]
    assert any("我知道你住哪" in p.text for p in windows)
    assert all(p.text == text[p.start:p.end] and len(p.text) <= WINDOW_CHARS for p in windows)


def test_fit_separates_both_feature_families() -> None:
    texts = ["you are a worthless idiot", "what an idiot you are", "idiot", "pay by friday please",
             "thank you for paying", "your balance is ten dollars"]
    y = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    rows = hashed_rows(texts, ["en"] * 6)
    w, b = fit_logistic(rows, y, NGRAM)
    assert ((rows.dot(w) + b > 0) == (y == 1)).all()
    x = np.random.default_rng(2).normal(size=(6, EMBEDDING.dim)) + y[:, None]
    w, b = fit_logistic(DenseRows(x), y, EMBEDDING)
    assert ((x @ w + b > 0) == (y == 1)).all()


def test_stored_layer_round_trips(tmp_path: Path) -> None:
    layer = load_layer()
    save_layer(layer, tmp_path / "layer.npz")
    again = load_layer(tmp_path / "layer.npz")
    assert again.version == layer.version and again.categories == layer.categories
    assert np.array_equal(again.ngram_weights, layer.ngram_weights)
    assert np.array_equal(again.embedding_weights, layer.embedding_weights)
    assert np.array_equal(again.thresholds, layer.thresholds) and again.provenance == layer.provenance
