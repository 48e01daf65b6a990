"""Limits that stop abuse without touching normal use."""

from __future__ import annotations

from dataclasses import dataclass

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
