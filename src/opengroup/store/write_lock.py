"""The queue SQLite writers wait in.

SQLite lets one write transaction run at a time, and a writer that finds the database locked
sleeps in its busy handler (1, 2, 5, 10… ms between tries) however soon the lock frees. A
post holds the lock for ~0.2 ms, so with two server processes most of a waiting writer's time
was sleep (bench, posts with 2 workers: fewer per second than with 1). Writers of one database
file therefore queue here first: a thread lock inside the process, then `flock` on a file
beside the database across processes. The kernel wakes the next waiter when the lock is
released, or when its holder dies.

The lock only orders writers that go through `Database`; SQLite's own locking still keeps the
data correct when anything else (the sqlite3 shell, a backup tool) writes.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import StorageBusy

# A post holds the lock ~0.2 ms: first naps are short, later ones cheap to repeat.
_FIRST_NAP = 0.0002
_LONGEST_NAP = 0.005


class SQLiteWriteLock:
    def __init__(self, database_path: str | None, timeout_seconds: float) -> None:
        """`database_path` None (an in-memory database): no other process can share it."""
        self._lock_path = f"{database_path}.write-lock" if database_path else None
        self._timeout = timeout_seconds
        self._thread_lock = threading.Lock()
        self._fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> None:
        """Wait at most the timeout in all (thread lock, then flock): a writer that holds the
        lock too long (a stuck process, a long operator transaction) costs the others a
        clear 503, never a hang. Runs in a store thread, never on the event loop."""
        deadline = time.monotonic() + self._timeout
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise StorageBusy("database busy: the writers' lock was not free in time")
        try:
            fd = self._file()
            if fd is not None:
                self._flock_until(fd, deadline)
        except BaseException:
            self._thread_lock.release()
            raise

    def try_acquire(self) -> bool:
        """Take the lock only if it is free now (thread lock, then flock): never waits, so it
        may run on an event loop. True if taken (release it as after acquire)."""
        if not self._thread_lock.acquire(blocking=False):
            return False
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._thread_lock.release()
            return False
        except BaseException:
            self._thread_lock.release()
            raise
        return True

    @staticmethod
    def _flock_until(fd: int, deadline: float) -> None:
        """flock has no timeout: try without blocking, then again after short naps. Only a
        contended lock naps; the usual free lock costs one system call."""
        nap = _FIRST_NAP
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StorageBusy("database busy: another process held the writers' lock")
            time.sleep(min(nap, remaining))
            nap = min(nap * 2, _LONGEST_NAP)

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _file(self) -> int | None:
        """The lock file, opened on first use. None when it cannot be opened (a read-only
        data directory): writers then queue in SQLite alone, which reports the real error."""
        if self._fd is None and self._lock_path is not None:
            try:
                self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return None
        return self._fd

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
