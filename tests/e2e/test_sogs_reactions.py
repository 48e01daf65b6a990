"""Reactions (SOGS-API.md 6.1, 6.2, 7.4): the raw UTF-8 emoji in the signed path, seqnos,
reaction-only rows in `since` polls, `you`, `reactors` and their clamp."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient

from .conftest import Server, sogs_post


@pytest.fixture
def room(server: Server) -> str:
    return server.new_room("Reactions")


def react(
    sogs: SogsClient, room: str, user: BlindedUser, message_id: int, emoji: str, method: str = "PUT"
) -> Any:
    reply = sogs.request(method, f"/room/{room}/reaction/{message_id}/{emoji}", user=user)
    assert reply.code == 200, reply.text
    return reply.json


def since(
    sogs: SogsClient, room: str, user: BlindedUser, seqno: int, query: str = "t=r&reactors=5"
) -> list[dict[str, Any]]:
    reply = sogs.get(f"/room/{room}/messages/since/{seqno}?{query}", user=user)
    assert reply.code == 200, reply.text
    return list(reply.json)


def test_a_reaction_on_an_old_message_is_a_reaction_only_row(sogs: SogsClient, room: str) -> None:
    author, reader = BlindedUser.generate(), BlindedUser.generate()
    old = sogs_post(sogs, room, author)
    newest = sogs_post(sogs, room, author)
    added = react(sogs, room, reader, old["id"], "👍")
    assert added == {"added": True, "seqno": newest["seqno"] + 1}
    assert react(sogs, room, reader, old["id"], "👍") == {
        "added": False,
        "seqno": newest["seqno"] + 1,
    }
    rows = since(sogs, room, author, newest["seqno"])
    assert rows == [
        {
            "id": old["id"],
            "seqno": newest["seqno"] + 1,
            "reactions": {
                "👍": {"index": 0, "count": 1, "reactors": [reader.blinded_id(sogs.server_pk)]}
            },
        }
    ]
    # Without t=r a reaction-only change is not sent; with it, the reactor sees `you`.
    assert since(sogs, room, author, newest["seqno"], "reactors=5") == []
    mine = since(sogs, room, reader, newest["seqno"])
    assert mine[0]["reactions"]["👍"]["you"] is True
    removed = react(sogs, room, reader, old["id"], "👍", "DELETE")
    assert removed == {"removed": True, "seqno": newest["seqno"] + 2}
    rows = since(sogs, room, author, newest["seqno"] + 1)
    assert rows == [{"id": old["id"], "seqno": newest["seqno"] + 2, "reactions": {}}]
    assert react(sogs, room, reader, old["id"], "👍", "DELETE")["removed"] is False


def test_index_count_you_and_the_reactors_clamp(sogs: SogsClient, room: str) -> None:
    author = BlindedUser.generate()
    message = sogs_post(sogs, room, author)
    users = [BlindedUser.generate() for _ in range(5)]
    for user in users:
        react(sogs, room, user, message["id"], "🎉")
    react(sogs, room, users[4], message["id"], "y/n")
    ids = [user.blinded_id(sogs.server_pk) for user in users]
    for query, shown in (("?reactors=0", None), ("?reactors=3", 3), ("?reactors=99", 5), ("", 4)):
        row = sogs.get(f"/room/{room}/messages/recent{query}", user=users[4]).json[0]
        party = row["reactions"]["🎉"]
        assert (party["index"], party["count"], party["you"]) == (0, 5, True)
        assert row["reactions"]["y/n"]["index"] == 1
        if shown is None:
            assert "reactors" not in party
        else:
            assert party["reactors"] == ids[:shown]
    row = sogs.get(f"/room/{room}/messages/recent?reactors=1", user=author).json[0]
    assert "you" not in row["reactions"]["🎉"]
    reactors = sogs.get(f"/room/{room}/reactors/{message['id']}/🎉", user=author).json
    assert [r[0] for r in reactors] == ids and all(isinstance(r[1], float) for r in reactors)
    assert len(sogs.get(f"/room/{room}/reactors/{message['id']}/🎉?limit=2", user=author).json) == 2


def test_percent_encoded_emoji_is_the_same_reaction(sogs: SogsClient, room: str) -> None:
    author = BlindedUser.generate()
    message = sogs_post(sogs, room, author)
    path = f"/room/{room}/reaction/{message['id']}/"
    reply = sogs.request("PUT", path + quote("🍍"), user=author, sign_endpoint=path + "🍍")
    assert reply.code == 200 and reply.json["added"] is True
    again = sogs.request("PUT", path + "🍍", user=author)
    assert again.code == 200 and again.json["added"] is False


def test_moderators_clear_one_emoji_or_all(server: Server, sogs: SogsClient, room: str) -> None:
    author, moderator = BlindedUser.generate(), BlindedUser.generate()
    message = sogs_post(sogs, room, author)
    for emoji in ("👍", "🎉", "🎉"[0]):
        react(sogs, room, author, message["id"], emoji)
    react(sogs, room, moderator, message["id"], "🎉")
    refused = sogs.request("DELETE", f"/room/{room}/reactions/{message['id']}/🎉", user=author)
    assert refused.code == 403
    server.add_moderator(moderator.session_id, room)
    cleared = sogs.request("DELETE", f"/room/{room}/reactions/{message['id']}/🎉", user=moderator)
    assert cleared.code == 200 and cleared.json["removed"] == 2
    everything = sogs.request("DELETE", f"/room/{room}/reactions/{message['id']}", user=moderator)
    assert everything.json["removed"] == 1
    assert everything.json["seqno"] == cleared.json["seqno"] + 1
    row = sogs.get(f"/room/{room}/message/{message['id']}", user=author).json
    assert row["reactions"] == {}


@pytest.mark.parametrize("emoji", ["", "a" * 13, "🦒🦍🐍🐊🦢🦁🦎" * 2])
def test_bad_emoji_is_400(sogs: SogsClient, room: str, emoji: str) -> None:
    author = BlindedUser.generate()
    message = sogs_post(sogs, room, author)
    reply = sogs.request("PUT", f"/room/{room}/reaction/{message['id']}/{emoji}", user=author)
    assert reply.code == 400


def test_reactions_need_a_live_message_and_a_user(sogs: SogsClient, room: str) -> None:
    author = BlindedUser.generate()
    message = sogs_post(sogs, room, author)
    assert sogs.request("PUT", f"/room/{room}/reaction/{message['id']}/👍").code == 401
    assert sogs.request("PUT", f"/room/{room}/reaction/999999/👍", user=author).code == 404
    assert sogs.request("PUT", f"/room/{room}/reaction/x/👍", user=author).code == 404
    sogs.request("DELETE", f"/room/{room}/message/{message['id']}", user=author)
    assert sogs.request("PUT", f"/room/{room}/reaction/{message['id']}/👍", user=author).code == 404
    seven = "🦒🦍🐍🐊🦢🦁🦎"
    other = sogs_post(sogs, room, author)
    assert react(sogs, room, author, other["id"], seven)["added"] is True


def test_a_deleted_message_loses_its_reactions(sogs: SogsClient, room: str) -> None:
    author = BlindedUser.generate()
    message = sogs_post(sogs, room, author)
    react(sogs, room, author, message["id"], "👍")
    sogs.request("DELETE", f"/room/{room}/message/{message['id']}", user=author)
    rows = since(sogs, room, author, message["seqno"])
    assert rows[-1]["deleted"] is True and "reactions" not in rows[-1]
