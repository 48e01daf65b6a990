"""The modern rate limit counts a person's posts under every id they have (both engines)."""

from __future__ import annotations

from opengroup.store import message_rows
from opengroup.store import messages as message_store
from opengroup.store import users as user_store

from .helpers import make_room, open_database

ROOT = "05" + "11" * 32
BLINDED = "15" + "22" * 32
OTHER_BLINDED = "15" + "33" * 32  # the same person's other sign (the users table knows it)
STRANGER = "05" + "44" * 32


def test_posts_by_the_root_and_every_blinded_id_count_together(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    with db.write_raw() as tx:
        user_store.upsert_user_seen(tx, OTHER_BLINDED, ROOT, 1000.0)
        for n, author in enumerate((ROOT, BLINDED, OTHER_BLINDED, STRANGER, BLINDED)):
            message_rows.insert_post(tx, room, author, 2000.0 + n, b"data", b"s" * 64)
    with db.write_raw() as tx:
        counted = message_store.count_person_posts_since(tx, room, BLINDED, ROOT, 1_999_000)
        assert counted == 4
        later = message_store.count_person_posts_since(tx, room, BLINDED, ROOT, 2_002_500)
        assert later == 1  # the last post only
        assert message_store.count_person_posts_since(tx, room, STRANGER, STRANGER, 0) == 1
    db.dispose()
