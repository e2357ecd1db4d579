"""Build a ready Bot from Settings: load knowledge, make sure a fresh index exists, pick the encoder."""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor, wait

from faqbot.batching import with_batching
from faqbot.bot import Bot, EscalationSink
from faqbot.config import Settings
from faqbot.encoder import MODEL_NAME, Encoder, load_encoder
from faqbot.errors import EncoderError
from faqbot.guard import Guard
from faqbot.index import (
    Index,
    Progress,
    build_index,
    guard_exemplars,
    load_index,
    read_manifest,
    save_index,
    stale_reason,
    stderr_progress,
)
from faqbot.kb import KnowledgeBase
from faqbot.onnx_encoder import export_onnx, onnx_artifact
from faqbot.render import Renderer
from faqbot.retrieval import Thresholds
from faqbot.substances import build_known_words


def thresholds_from(settings: Settings) -> Thresholds:
    """Decision thresholds from configuration."""
    return Thresholds(
        answer=settings.answer_threshold,
        margin=settings.answer_margin,
        clarify=settings.clarify_threshold,
        domain=settings.domain_threshold,
        lexical_k=settings.lexical_k,
        lexical_weight=settings.lexical_weight,
    )


def build_artifacts(
    kb: KnowledgeBase,
    settings: Settings,
    *,
    progress: Progress = stderr_progress,
    onnx: bool = True,
) -> Index:
    """Export the ONNX encoder (when possible) and build + save the index with it."""
    extra: dict[str, object] = {"onnx": None}
    if onnx:
        try:
            progress("exporting the bundled model to ONNX")
            export_onnx(onnx_artifact(settings.data_dir))
            extra["onnx"] = "onnx/model.onnx"
        except Exception as exc:  # noqa: BLE001 - ONNX is an optimisation; fall back to the reference
            progress(f"ONNX export failed ({exc}); using sentence-transformers")
            # an earlier export may not match this index's format: never serve with it
            shutil.rmtree(onnx_artifact(settings.data_dir), ignore_errors=True)
    encoder = load_encoder(
        settings.encoder, data_dir=settings.data_dir, threads=settings.encoder_threads
    )
    index = build_index(kb, encoder, progress=progress)
    save_index(index, settings.data_dir, extra=extra)
    progress(
        f"index written to {settings.data_dir / 'index'} ({index.manifest['phrasings']} phrasings)"
    )
    return index


def make_guard(kb: KnowledgeBase, index: Index | None) -> Guard:
    """The guard over this knowledge base, with exemplar vectors when an index is loaded."""
    known = build_known_words([e.answer for e in kb.served] + [e.question for e in kb.served])
    return Guard(
        data=kb.guard,
        exemplars=guard_exemplars(kb),
        exemplar_vectors=index.exemplar_vectors if index else None,
        classifier=index.classifier if index else None,
        known_words=known,
    )


def build_bot(
    settings: Settings,
    *,
    sink: EscalationSink | None = None,
    progress: Progress = stderr_progress,
    kb: KnowledgeBase | None = None,
) -> Bot:
    """A Bot with a fresh index; raises KnowledgeError for invalid knowledge."""
    preload = _preload_onnx(settings)
    kb = kb or KnowledgeBase.from_path(settings.knowledge_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    reason = stale_reason(read_manifest(settings.data_dir), kb, MODEL_NAME)
    if reason:
        if preload:  # the rebuild exports the model again: let the old file be read first
            wait([preload])
            preload = None  # and load the new export below
        progress(f"building the index: {reason}")
        build_artifacts(kb, settings, progress=progress)
    inner = (
        preload.result()
        if preload
        else load_encoder(
            settings.encoder, data_dir=settings.data_dir, threads=settings.encoder_threads
        )
    )
    encoder = with_batching(inner, settings.encoder_batch_ms)
    index = load_index(settings.data_dir, kb, encoder.name)
    encoder.warm_up()
    return Bot(
        kb=kb,
        index=index,
        encoder=encoder,
        guard=make_guard(kb, index),
        renderer=Renderer(prompts_dir=settings.prompts_dir),
        thresholds=thresholds_from(settings),
        contact_url=settings.contact_url,
        default_locale=settings.default_locale,
        sink=sink,
    )


def _preload_onnx(settings: Settings) -> Future[Encoder] | None:
    """Start loading an existing ONNX export in a thread, or None.

    onnxruntime releases the GIL while it builds a session (about 0.2 s), so this overlaps with
    reading the knowledge (pure Python, about 0.4 s) and a cold `faqbot ask` answers sooner.
    """
    if settings.encoder not in {"auto", "onnx"} or not onnx_artifact(settings.data_dir).exists():
        return None

    def load() -> Encoder:
        encoder = load_encoder("onnx", data_dir=settings.data_dir, threads=settings.encoder_threads)
        encoder.warm_up()
        return encoder

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faqbot-preload")
    future = pool.submit(load)
    pool.shutdown(wait=False)  # its one thread ends when the load does
    return future


def build_degraded_bot(
    settings: Settings, kb: KnowledgeBase, *, sink: EscalationSink | None = None
) -> Bot:
    """A Bot without index or model: rules still guard; everything else fails closed."""
    return Bot(
        kb=kb,
        index=None,
        encoder=None,
        guard=make_guard(kb, None),
        renderer=Renderer(prompts_dir=settings.prompts_dir),
        thresholds=thresholds_from(settings),
        contact_url=settings.contact_url,
        default_locale=settings.default_locale,
        sink=sink,
    )


__all__ = ["EncoderError", "build_artifacts", "build_bot", "build_degraded_bot"]
