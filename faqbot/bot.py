"""Bot.reply(message, conversation) -> Reply: the ONE place that wires guard, retrieval and render.

Fails closed: any exception between message and reply yields the safe redirect (kind redirect,
category error) with help numbers, never an unguarded answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from faqbot.dialog import Conversation, Turn, contextual_query
from faqbot.encoder import Encoder, Vectors
from faqbot.guard import Guard
from faqbot.index import Index
from faqbot.kb import KnowledgeBase
from faqbot.models import FaqEntry, Hit, Reply, ResourceRef, SourceRef, Suggestion, Verdict
from faqbot.render import Renderer, to_html
from faqbot.retrieval import Outcome, Thresholds, for_mode, pick_outcome, score

log = logging.getLogger("faqbot.bot")
MAX_MESSAGE = 2000
ESCALATING = {"redirect", "emergency"}
RESOURCES = {
    "emergency": ("emergency", "poisoning"),
    "self_harm": ("crisis", "emergency"),
    "dosing": ("poisoning", "emergency"),
    "mixing": ("poisoning", "emergency"),
    "human_request": ("crisis", "poisoning", "substance_use", "emergency", "non_urgent"),
    "language": ("emergency", "poisoning", "crisis"),
    "error": ("emergency", "poisoning"),
}


class MessageError(ValueError):
    """The message is empty or too long (a client error, not a reply)."""


class EscalationSink(Protocol):
    """Where escalations and unanswered questions go (the store, or nowhere for the CLI)."""

    def record(self, turn: BotTurn, conversation: Conversation) -> bool:
        """Persist an escalation; True when it is safely stored (or spooled)."""
        ...

    def record_unanswered(self, turn: BotTurn) -> None:
        """Persist a fallback/out-of-scope question for the gap report."""
        ...


@dataclass
class BotTurn:
    """A reply with the decision trace behind it (for --explain, logs and the store)."""

    message: str
    reply: Reply
    verdict: Verdict = field(default_factory=Verdict)
    outcome: Outcome | None = None
    trace: dict[str, Any] = field(default_factory=dict)


def check_message(message: str) -> str:
    """The trimmed message, or MessageError saying what is wrong with it."""
    if not isinstance(message, str):
        raise MessageError("message must be text")
    text = message.strip()
    if not text:
        raise MessageError("message is empty: type a question")
    if len(text) > MAX_MESSAGE:
        raise MessageError(f"message is {len(text)} characters; the limit is {MAX_MESSAGE}")
    return text


class Bot:
    """Guard first, then small talk, then retrieval; every text from a template."""

    def __init__(
        self,
        *,
        kb: KnowledgeBase,
        index: Index | None,
        encoder: Encoder | None,
        guard: Guard,
        renderer: Renderer,
        thresholds: Thresholds,
        contact_url: str | None = None,
        default_locale: str = "en-US",
        sink: EscalationSink | None = None,
    ) -> None:
        self.kb = kb
        self.index = index
        self.encoder = encoder
        self.guard = guard
        self.renderer = renderer
        self.thresholds = thresholds
        self.contact_url = contact_url
        self.default_locale = default_locale
        self.sink = sink
        self.fail_closed_count = 0
        self.mode = "fused"  # "dense" / "lexical" only for evaluation baselines
        self.error_replies = {
            code: self._error_reply(code)
            for loc in kb.resources.locales.values()
            for code in loc.codes
        }

    @property
    def ready(self) -> bool:
        """True when the index and encoder are loaded (answers are possible)."""
        return self.index is not None and self.encoder is not None

    # ------------------------------------------------------------------ entry point
    def reply(
        self, message: str, conversation: Conversation | None = None, *, locale: str | None = None
    ) -> BotTurn:
        """Reply to one message in a conversation; never raises except MessageError."""
        text = check_message(message)
        conversation = conversation if conversation is not None else Conversation()
        locale = locale or self.default_locale
        try:
            turn = self._reply(text, conversation, locale)
            self._check_output(turn)
        except Exception as exc:  # noqa: BLE001 - fail closed on anything
            log.exception("fail-closed reply: %s", exc)
            self.fail_closed_count += 1
            turn = BotTurn(
                text,
                (
                    self.error_replies.get(locale) or self.error_replies[self.default_locale]
                ).model_copy(deep=True),
                Verdict(category="error"),
                trace={"error": type(exc).__name__},
            )
        turn.reply.session_id = conversation.session_id
        turn.reply.turn_id = conversation.turn_count + 1
        self._remember(turn, conversation)
        self._record(turn, conversation)
        return turn

    def _reply(self, text: str, conversation: Conversation, locale: str) -> BotTurn:
        if not self.ready:
            # degraded: rules still catch emergencies and redirects; anything else fails closed
            verdict = self.guard.check(text, history=conversation.guard_history())
            if verdict.flagged:
                return BotTurn(text, self._guarded(verdict, locale), verdict)
            raise RuntimeError("index or model not loaded")
        forms = self.guard.forms(text)
        semantic = forms[2]  # what Guard.semantic_text gives: the unwrapped canonical text
        vector = self._encode(semantic)
        verdict = self.guard.check(
            text,
            history=conversation.guard_history(),
            vector=vector,
            forms=forms,
            embed=self._encode_many,
        )
        if verdict.flagged:
            return BotTurn(text, self._guarded(verdict, locale), verdict)
        intent = self.kb.smalltalk.match(text)
        if intent:
            return BotTurn(text, self._compose("smalltalk", locale, intent=intent), verdict)
        outcome = self._retrieve(semantic, vector, conversation)
        return BotTurn(text, self._from_outcome(outcome, locale), verdict, outcome)

    def _encode(self, text: str) -> Vectors:
        assert self.encoder is not None
        row: Vectors = self.encoder.encode([text])[0]
        return row

    def _encode_many(self, texts: list[str]) -> list[Vectors]:
        """One batch for several texts (the sentences of a long message); none for none."""
        assert self.encoder is not None
        return list(self.encoder.encode(texts)) if texts else []

    # ------------------------------------------------------------------ retrieval
    def _retrieve(self, text: str, vector: Vectors, conversation: Conversation) -> Outcome:
        assert self.index is not None
        hits = score(self.index, vector, text, self.thresholds, mode=self.mode)
        follow = contextual_query(text, conversation)
        context = None
        if follow is not None:
            context = (
                score(self.index, self._encode(follow), follow, self.thresholds, mode=self.mode),
                follow,
            )
        return pick_outcome((hits, text), context, for_mode(self.thresholds, self.mode))

    def _from_outcome(self, outcome: Outcome, locale: str) -> Reply:
        if outcome.decision == "answer":
            assert outcome.top is not None
            entry = self.kb.get(outcome.top.entry_id)
            assert entry is not None
            return self._answer(entry, locale)
        suggestions = self._suggest(outcome.hits, 3)
        if outcome.decision == "out_of_scope":
            suggestions = self._ids_to_suggestions(self.kb.guard.semantic.starters)
        return self._compose(
            outcome.decision, locale, suggestions=suggestions, show_suggestions=False
        )

    def _answer(self, entry: FaqEntry, locale: str) -> Reply:
        sources = [
            SourceRef(publisher=s.publisher, title=s.title, url=str(s.url)) for s in entry.sources
        ]
        related = self._ids_to_suggestions(entry.related[:3])
        reply = self._compose(
            "answer",
            locale,
            entry=entry,
            sources=sources,
            reviewed_on=entry.review.reviewed_on,
            suggestions=related,
            show_suggestions=True,
        )
        return reply.model_copy(
            update={
                "entry_id": entry.id,
                "sources": sources,
                "reviewed_on": entry.review.reviewed_on,
            }
        )

    def _suggest(self, hits: list[Hit], limit: int) -> list[Suggestion]:
        return self._ids_to_suggestions([h.entry_id for h in hits[:limit]])

    def _ids_to_suggestions(self, ids: list[str]) -> list[Suggestion]:
        entries = [self.kb.get(i) for i in ids]
        return [Suggestion(entry_id=e.id, question=e.question) for e in entries if e is not None]

    # ------------------------------------------------------------------ guarded replies
    def _guarded(self, verdict: Verdict, locale: str) -> Reply:
        category = verdict.category
        assert category is not None
        related = self._ids_to_suggestions(self.kb.guard.semantic.related.get(category, []))
        if category in {"sourcing", "harm"}:
            return self._compose(
                "out_of_scope",
                locale,
                category=category,
                suggestions=related,
                show_suggestions=False,
            )
        kind = "emergency" if category in {"emergency", "self_harm"} else "redirect"
        purposes = list(RESOURCES.get(category, ("emergency", "poisoning")))
        if category == "emergency" and verdict.intent_unknown:
            purposes.append("crisis")
        if verdict.pet:
            purposes = ["animal", *purposes]
        resources = self.kb.resources.for_purpose(locale, *purposes)
        template = {"emergency": "emergency", "self_harm": "self_harm"}.get(category, category)
        reply = self._compose(
            template,
            locale,
            resources=resources,
            suggestions=related,
            pet=verdict.pet,
            intent_unknown=verdict.intent_unknown,
            show_suggestions=bool(related),
        )
        return reply.model_copy(update={"kind": kind, "category": category, "resources": resources})

    # ------------------------------------------------------------------ rendering
    def _context(self, locale: str) -> dict[str, ResourceRef | None]:
        book = self.kb.resources

        def first(purpose: str) -> ResourceRef | None:
            found = book.for_purpose(locale, purpose)
            return found[0] if found else None

        return {
            "emergency": book.emergency_ref(locale),
            "poison": first("poisoning"),
            "crisis": first("crisis"),
            "animal": first("animal"),
            "substance": first("substance_use"),
        }

    def _compose(
        self,
        template: str,
        locale: str,
        *,
        category: str | None = None,
        suggestions: list[Suggestion] | None = None,
        resources: list[ResourceRef] | None = None,
        show_suggestions: bool = False,
        **extra: Any,
    ) -> Reply:
        suggestions = suggestions or []
        context = {
            **self._context(locale),
            "suggestions": suggestions,
            "contact_url": self.contact_url,
            "category": category,
            "resources": resources or [],
            **extra,
        }
        notes = {
            r.id: n
            for loc in self.kb.resources.locales.values()
            for r in loc.resources
            for n in [r.note]
        }
        for key in ("poison", "crisis", "emergency", "animal"):
            ref = context.get(key)
            if isinstance(ref, ResourceRef):
                context[key] = {**ref.model_dump(), "note": notes.get(ref.id, "")}
        body = self.renderer.render(template, **context)
        footer = self.renderer.render(
            "footer",
            sources=extra.get("sources", []),
            reviewed_on=extra.get("reviewed_on"),
            resources=resources or [],
            suggestions=suggestions,
            show_suggestions=show_suggestions,
        )
        text = f"{body}\n\n{footer}".strip()
        kind = (
            template
            if template in {"answer", "clarify", "fallback", "out_of_scope", "smalltalk"}
            else "redirect"
        )
        return Reply(
            kind=kind, category=category, text=text, html=to_html(body), suggestions=suggestions
        )

    def _error_reply(self, locale: str) -> Reply:
        resources = self.kb.resources.for_purpose(locale, *RESOURCES["error"])
        reply = self._compose("error", locale, resources=resources)
        return reply.model_copy(
            update={"kind": "redirect", "category": "error", "resources": resources}
        )

    # ------------------------------------------------------------------ output check and memory
    def _check_output(self, turn: BotTurn) -> None:
        if turn.reply.kind == "answer" and turn.verdict.flagged:
            raise RuntimeError("an answer was about to be sent in a flagged turn")
        dose = self.kb.checks.find_dose(turn.reply.text)
        if dose:
            raise RuntimeError(f"reply text contains a dose-like quantity {dose!r}")

    def _remember(self, turn: BotTurn, conversation: Conversation) -> None:
        entry = self.kb.get(turn.reply.entry_id) if turn.reply.entry_id else None
        in_domain = bool(
            turn.outcome and turn.outcome.in_domain and turn.outcome.decision != "out_of_scope"
        )
        topic = entry.question if entry else (turn.message if in_domain else "")
        conversation.add(
            Turn(turn.message, turn.reply.kind, turn.verdict.category, turn.reply.entry_id, topic)
        )

    def _record(self, turn: BotTurn, conversation: Conversation) -> None:
        if self.sink is None:
            return
        try:
            if turn.reply.kind in ESCALATING:
                turn.reply.escalated = self.sink.record(turn, conversation)
            elif turn.reply.kind in {"fallback", "out_of_scope"}:
                self.sink.record_unanswered(turn)
        except Exception:  # noqa: BLE001 - logging never breaks the reply
            log.exception("could not record turn")
