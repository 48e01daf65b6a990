"""One logging setup for every process of the server (the `serve` process and each worker):
one format with a timestamp for our lines and uvicorn's, and repeats of the same failure
rate-limited, with a count.

uvicorn applies `log_config(level)` itself, in the supervisor and in every worker it starts.
"""

from __future__ import annotations

import logging
import logging.config
import threading
import time
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The same warning or error (same logger and message template) at most once per window; the
# next one that passes says how many were left out.
REPEAT_WINDOW_SECONDS = 60.0


class RepeatedFailures(logging.Filter):
    """Drops a WARNING or ERROR already logged in the last REPEAT_WINDOW_SECONDS; the next one
    let through after the window ends with "(N more like this in the last 60 s)"."""

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS) -> None:
        super().__init__()
        self.window = window
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        with self._lock:
            first, dropped = self._seen.get(key, (0.0, 0))
            if first and now - first < self.window:
                self._seen[key] = (first, dropped + 1)
                return False
            self._seen[key] = (now, 0)
            if len(self._seen) > 1000:  # many distinct messages: forget the old ones
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.window}
        if dropped:
            record.msg = f"{record.msg} ({dropped} more like this in the last {self.window:.0f} s)"
        return True


def log_config(level: str) -> dict[str, Any]:
    """A logging.config.dictConfig for our loggers and uvicorn's, all through one handler."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"format": LOG_FORMAT}},
        "filters": {"repeats": {"()": RepeatedFailures}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["repeats"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["default"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": level, "handlers": [], "propagate": True},
            "alembic": {"level": "WARNING"},
        },
    }


def configure_logging(level: str) -> None:
    logging.config.dictConfig(log_config(level))
