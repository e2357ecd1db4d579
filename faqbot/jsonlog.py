"""Structured logs: one JSON object per line on stderr, for faqbot and uvicorn alike."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
from typing import Any

# attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field
STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line for one record."""
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in STANDARD})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A logging.config dict sending faqbot's and uvicorn's logs to stderr as JSON lines."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            **dict.fromkeys(("uvicorn", "uvicorn.error", "uvicorn.access"), quiet),
            "alembic": {"level": "WARNING"},
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Install the JSON configuration for this process."""
    logging.config.dictConfig(log_config(level))
