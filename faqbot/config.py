"""Settings from FAQBOT_* environment variables (and an optional .env file); no global instance."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob faqbot has; each one is documented in the README's Configuration table."""

    model_config = SettingsConfigDict(env_prefix="FAQBOT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Where the index, SQLite file and spool are written."
    )
    knowledge_dir: Path = Field(
        default=PROJECT_ROOT / "knowledge",
        description="Folder with faq/, guardrails/ and resources.yaml.",
    )
    prompts_dir: Path = Field(
        default=PROJECT_ROOT / "prompts", description="Folder with the jinja2 reply templates."
    )
    default_locale: str = Field(
        default="en-US", description="Locale used when a request names none."
    )
    encoder: str = Field(
        default="auto",
        description="Embedding backend: auto (ONNX if exported, else sentence-transformers), onnx, st.",
    )
    answer_threshold: float = Field(
        default=0.54, description="Minimum fused score of the best entry to answer directly."
    )
    answer_margin: float = Field(
        default=0.01, description="Minimum fused-score lead over the runner-up to answer directly."
    )
    clarify_threshold: float = Field(
        default=0.49,
        description="Minimum fused score to offer suggestions (clarify) instead of a fallback.",
    )
    lexical_k: float = Field(
        default=12.0,
        description="BM25 saturation: a raw score s counts as s / (s + k) before fusing.",
    )
    domain_threshold: float = Field(
        default=0.38,
        description="Below this dense score a message without topic words is out of scope.",
    )
    lexical_weight: float = Field(
        default=0.4,
        description="Weight of the normalized BM25 score in the fused score (0 = dense only).",
    )
    contact_url: str | None = Field(
        default=None, description="The site's contact page, offered when someone asks for a person."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in the data dir."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL for shared sessions and rate limits (needed for --workers > 1).",
    )
    redis_prefix: str = Field(
        default="faqbot:",
        description="Prefix of every Redis key faqbot writes (to share one Redis between instances).",
    )
    session_ttl_minutes: int = Field(
        default=30, description="Idle time after which a chat session expires."
    )
    history_turns: int = Field(default=10, description="How many recent turns a session keeps.")
    retention_days: int = Field(
        default=90, description="Days escalations and unanswered questions are kept."
    )
    rate_limit_per_minute: int = Field(
        default=30, description="Chat requests per client per minute; 0 turns the limit off."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Proxy addresses whose X-Forwarded-For header is believed.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Site origins allowed to call the API from a browser."
    )
    max_body_bytes: int = Field(default=16384, description="Largest accepted request body (bytes).")
    ip_hash_key: str = Field(
        default="change-me",
        description="Secret key for hashing client addresses; set it in production.",
    )
    debug_headers: bool = Field(
        default=False, description="Add the worker pid as an X-Faqbot-Worker response header."
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Secure flag on moderator cookies; default on unless serving on loopback.",
    )
    moderator_idle_minutes: int = Field(default=30, description="Moderator session idle timeout.")
    encoder_threads: int = Field(
        default=1, description="Intra-op threads for the encoder per process."
    )
    encoder_batch_ms: int = Field(
        default=5,  # with packed batches a longer window pays (benchmarks/README.md)
        description="Micro-batching window (ms): concurrent requests within it share one encoder"
        " call (a lone request never waits for it); 0 turns batching off.",
    )

    def sqlite_path(self) -> Path:
        """The default SQLite file under the data dir."""
        return self.data_dir / "faqbot.sqlite3"

    def effective_database_url(self) -> str:
        """The configured database URL, or the SQLite default."""
        return self.database_url or f"sqlite:///{self.sqlite_path()}"
