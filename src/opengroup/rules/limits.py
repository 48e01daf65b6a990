"""Limits that stop abuse without touching normal use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..errors import RateLimited, TooLarge


@dataclass(frozen=True, slots=True)
class PostRateLimit:
    posts: int
    seconds: float

    def check(self, recent_posts: int) -> None:
        """`recent_posts`: this user's posts in this room within the last `seconds`."""
        if recent_posts >= self.posts:
            raise RateLimited(f"at most {self.posts} posts per {self.seconds:g} seconds")


def check_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise TooLarge(f"{what} is {size} bytes; the limit is {limit}")


def check_upload_quota(used_today: int, size: int, quota: int) -> None:
    """`quota` 0 means no quota."""
    if quota and used_today + size > quota:
        raise RateLimited(f"upload quota of {quota} bytes per day in this room reached")


def base64_decoded_size_floor(encoded_length: int) -> int:
    """The least a base64 text of this length decodes to: refuse oversized input undecoded."""
    return max(0, (encoded_length // 4) * 3 - 2)


@dataclass(slots=True)
class ReplyBudget:
    """What one request (a compact_poll, a modern batch, a message list) may return: at most
    `items` messages and deletions and about `size` bytes of their data. Lists are cut short,
    never refused: clients page on with their cursors from the last item they got."""

    items: int
    size: int
    used_items: int = 0
    used_size: int = 0

    @property
    def items_left(self) -> int:
        return max(0, self.items - self.used_items)

    @property
    def spent(self) -> bool:
        return self.used_items > 0 and (
            self.used_items >= self.items or self.used_size >= self.size
        )

    def take(self, sizes: list[int]) -> int:
        """How many of these items, in order, fit (then counted as used). The first item of
        a request always fits, so that one message over `size` still reaches its readers."""
        taken = 0
        for size in sizes:
            first = self.used_items == 0
            if not first and (self.used_items >= self.items or self.used_size + size > self.size):
                break
            self.used_items += 1
            self.used_size += size
            taken += 1
        return taken


T = TypeVar("T")
FIRST_CHUNK = 32


def take_within(
    budget: ReplyBudget,
    fetch: Callable[[T | None, int], list[T]],
    size: Callable[[T], int],
    limit: int,
) -> list[T]:
    """Up to `limit` items of a list, as many as the budget holds, read in chunks so that
    what is read and dropped stays small: `fetch(last, n)` gives the next `n` items after
    `last` (None: from the start). After a first chunk, a chunk is as many items as fit if
    each were as large as the largest seen."""
    taken: list[T] = []
    last: T | None = None
    largest = 0
    while len(taken) < limit and not budget.spent:
        wanted = limit - len(taken)
        if largest:
            wanted = min(wanted, max(1, (budget.size - budget.used_size) // largest))
        n = max(1, min(wanted, FIRST_CHUNK if last is None else wanted, budget.items_left))
        found = fetch(last, n)
        sizes = [size(item) for item in found]
        kept = budget.take(sizes)
        taken += found[:kept]
        if kept < len(found) or len(found) < n:
            break
        largest = max([largest, *sizes])
        last = found[-1]
    return taken
