"""A database outage as the web pages, /health and /metrics see it: logged once when it
starts (one line with its cause, no traceback) and once when it ends, whatever the number of
requests and scrapes in between."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("opengroup")


class Outage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down = False

    @property
    def down(self) -> bool:
        return self._down

    def failed(self, where: str, error: BaseException) -> None:
        with self._lock:
            was_down, self._down = self._down, True
        if not was_down:
            cause = getattr(error, "detail", None) or str(error) or type(error).__name__
            log.warning("%s: the database does not answer (%s); serving 503 until it does",
                        where, cause)  # fmt: skip

    def answered(self) -> None:
        if not self._down:
            return
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            log.info("the database answers again")


DATABASE = Outage()
