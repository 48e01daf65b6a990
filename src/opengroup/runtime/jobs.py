"""Periodic jobs inside the server: prune pending and expired tokens, expired files, strays;
write buffered token uses; SQLite checkpoints.

Every job is an idempotent DELETE (or unlink of a file already gone), so running it in several
processes at once is safe and cheap: no lease is needed.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from opengroup.errors import OpenGroupError
from opengroup.rules.tokens import PENDING_TOKEN_SECONDS
from opengroup.store import auth as token_store
from opengroup.store import direct_messages as dm_store
from opengroup.store import envelopes as envelope_store
from opengroup.store import files as file_store
from opengroup.store import moderation as moderation_store
from opengroup.store import permissions as permission_store
from opengroup.store import users as user_store
from opengroup.usecases.context import DAY, ServerContext

log = logging.getLogger("opengroup.runtime.jobs")


def prune_once(ctx: ServerContext) -> dict[str, int]:
    now = ctx.clock()
    with ctx.db.write() as tx:
        tokens = token_store.prune_tokens(
            tx,
            pending_before=now - PENDING_TOKEN_SECONDS,
            claimed_unused_before=now - ctx.config.token_expiry_days * DAY,
        )
        nonces = user_store.prune_nonces(tx, now)
        nonces += envelope_store.prune_envelopes(tx, now - ctx.config.replay_window_days * DAY)
        dms = dm_store.prune_expired(tx, now)
        bans = moderation_store.lift_expired_bans(tx, now)
        bans += permission_store.lift_expired_overrides(tx, now)
    files = file_store.prune_expired_files(ctx.db, ctx.blobs, now)
    return {"tokens": tokens, "files": files, "nonces": nonces, "dms": dms, "bans": bans}


TOKEN_USE_FLUSH_SECONDS = 2.0


def flush_token_uses(ctx: ServerContext) -> int:
    """Token uses, modern readers' activity and signers' last_active, in one write
    transaction."""
    uses = ctx.token_uses.take()
    readers = ctx.activity.take()
    signers = ctx.signers.take()
    if uses or readers or signers:
        with ctx.db.write() as tx:
            now = ctx.clock()
            token_store.touch_tokens(tx, uses, now)
            token_store.record_activity(tx, readers, now)
            user_store.touch_users(tx, signers)
    return len(uses) + len(readers) + len(signers)


async def record_token_uses(ctx: ServerContext) -> None:
    """Write buffered token uses every few seconds (and once more at shutdown)."""
    try:
        while True:
            await asyncio.sleep(TOKEN_USE_FLUSH_SECONDS)
            try:
                await run_in_threadpool(flush_token_uses, ctx)
            except Exception:
                log.warning("could not record token uses; will try again", exc_info=True)
    finally:
        await run_in_threadpool(flush_token_uses, ctx)


# Posting at 2,000/s adds ~8,000 WAL pages a second; a checkpoint this often keeps the WAL
# to a few tens of MB.
CHECKPOINT_SECONDS = 0.5


async def checkpoints(ctx: ServerContext) -> None:
    """Copy the SQLite WAL into the database file, off the writers' path (see Database).

    A full disk (or a read-only or vanished database) is an expected condition here: one line,
    once, with its cause and no traceback; the job keeps trying and says when it works again.
    Anything else is a bug and is logged once with its traceback."""
    failing = False  # a full disk would otherwise log twice a second
    while True:
        await asyncio.sleep(CHECKPOINT_SECONDS)
        try:
            await run_in_threadpool(ctx.db.checkpoint)
        except (OpenGroupError, OSError) as error:  # StorageFailure, StorageBusy
            if not failing:
                cause = getattr(error, "detail", None) or str(error)
                log.warning("WAL checkpoint: storage failure (%s); will keep trying", cause)
            failing = True
        except Exception:
            if not failing:
                log.warning("WAL checkpoint failed; will keep trying", exc_info=True)
            failing = True
        else:
            if failing:
                log.info("WAL checkpoints work again")
            failing = False


def remove_stray_files(ctx: ServerContext) -> int:
    """Files on disk without a row (a crash between rename and commit) go at start."""
    with ctx.db.read() as tx:
        known = file_store.all_file_ids(tx)
    return ctx.blobs.remove_strays(known, ctx.clock())


async def run_periodic_jobs(ctx: ServerContext) -> None:
    try:
        removed = await run_in_threadpool(remove_stray_files, ctx)
        if removed:
            log.info("removed %d stray files", removed)
    except Exception:
        log.warning("stray file sweep failed", exc_info=True)
    while True:
        try:
            pruned = await run_in_threadpool(prune_once, ctx)
            if any(pruned.values()):
                log.info("pruned %(tokens)d tokens and %(files)d files", pruned)
        except Exception:
            log.warning("prune failed; will try again", exc_info=True)
        await asyncio.sleep(ctx.config.prune_interval_seconds)
