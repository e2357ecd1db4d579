"""The faiss index type: exact flat search for a normal knowledge base, HNSW (inner product) for a
very large one, with the graph saved next to the vectors and loaded back instead of rebuilt."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from faqbot.index import HNSW_EF_SEARCH, HNSW_FILE, build_faiss, index_dir, load_faiss, save_index


def unit_rows(rng: np.random.Generator, n: int, dim: int = 384) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return unit_rows(np.random.default_rng(7), 3000)


def near_copies(vectors: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Queries close to stored rows (cosine about 0.8), like paraphrases of a phrasing."""
    noisy = vectors[rows] + 0.038 * rng.standard_normal((len(rows), vectors.shape[1]))
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def test_small_collections_get_exact_flat_search(vectors):
    import faiss

    index = build_faiss(vectors)
    assert isinstance(index, faiss.IndexFlatIP)


def test_hnsw_scores_are_inner_products_and_find_the_same_top_hit(vectors):
    import faiss

    hnsw = build_faiss(vectors, hnsw_above=1000)
    assert isinstance(hnsw, faiss.IndexHNSWFlat)
    assert hnsw.metric_type == faiss.METRIC_INNER_PRODUCT and hnsw.hnsw.efSearch == HNSW_EF_SEARCH
    rng = np.random.default_rng(1)
    sources = rng.integers(0, len(vectors), 200)
    queries = near_copies(vectors, sources, rng)
    scores, rows = hnsw.search(queries, 40)
    assert np.mean(rows[:, 0] == sources) >= 0.98
    exact = np.sum(vectors[rows[:, 0]] * queries, axis=1)
    np.testing.assert_allclose(scores[:, 0], exact, atol=1e-5)  # similarities, not distances


@pytest.mark.slow
def test_hnsw_graph_is_saved_and_loaded_back(bot, vectors, tmp_path):
    import faiss

    hnsw = build_faiss(vectors, hnsw_above=1000)
    n = len(vectors)
    big = dataclasses.replace(
        bot.index,
        manifest=dict(bot.index.manifest),
        vectors=vectors,
        faiss_index=hnsw,
        entry_ids=[f"entry-{i}" for i in range(n)],
        phrasings=[f"phrasing {i}" for i in range(n)],
    )
    root = save_index(big, tmp_path)
    assert (root / HNSW_FILE).exists()
    loaded = load_faiss(index_dir(tmp_path), vectors)
    assert isinstance(loaded, faiss.IndexHNSWFlat) and loaded.hnsw.efSearch == HNSW_EF_SEARCH
    query = vectors[5:6]
    assert loaded.search(query, 3)[1].tolist() == hnsw.search(query, 3)[1].tolist()
    reloaded = dataclasses.replace(big, faiss_index=loaded)
    top_id, top_score, top_phrasing = reloaded.dense(query[0], k=5)[0]
    assert (top_id, top_phrasing) == ("entry-5", "phrasing 5") and top_score == pytest.approx(1.0)


def test_saved_graph_for_other_vectors_is_not_used(vectors, tmp_path):
    import faiss

    faiss.write_index(build_faiss(vectors, hnsw_above=1000), str(tmp_path / HNSW_FILE))
    assert isinstance(load_faiss(tmp_path, vectors[:100]), faiss.IndexFlatIP)


@pytest.mark.slow
def test_lexical_keeps_only_the_best_entries_of_a_large_knowledge_base(bot):
    import bm25s

    from faqbot.index import LEXICAL_TOP, tokenize_docs

    n = LEXICAL_TOP + 150
    docs = [f"kratom question {i} " + "filler words " * (i % 40) for i in range(n)]
    bm25 = bm25s.BM25()
    bm25.index(tokenize_docs(docs), show_progress=False)
    ids = [f"entry-{i}" for i in range(n)]
    big = dataclasses.replace(bot.index, bm25=bm25, bm25_ids=ids)
    kept = big.lexical("kratom")
    every = dict(zip(ids, bm25.get_scores(["kratom"]), strict=True))
    assert len(kept) == LEXICAL_TOP
    assert min(kept.values()) >= max(v for k, v in every.items() if k not in kept)
    assert bot.index.lexical("kratom") and len(bot.kb.served) < LEXICAL_TOP  # real KB: all kept
