"""A legacy onion request that changed something is refused when the same envelope comes again
(issue 16, item 4): whoever sees the bytes (the last Service Node, or anyone on plain HTTP
between it and the server) cannot make it act twice. Against the real server, v3 and v4."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import httpx
import orjson
import pytest

from opengroup.crypto import OnionCipher, SessionKeys, build_onion_request, sign_session_message
from opengroup.testing.client import OpenGroupClient
from opengroup.transport.onion_v4 import bdecode_strings, bencode_strings
from tests.support.server import RunningServer


def v3_envelope(live: RunningServer, inner: dict[str, object]) -> tuple[bytes, OnionCipher]:
    return build_onion_request(live.public_key, orjson.dumps(inner))


def send_v3(live: RunningServer, body: bytes, cipher: OnionCipher) -> dict[str, object]:
    response = httpx.post(live.base_url + "/loki/v3/lsrpc", content=body, timeout=30)
    assert response.status_code == 200, response.text
    reply: dict[str, object] = orjson.loads(cipher.decrypt(base64.b64decode(response.content)))
    return reply


def post_inner(token: str, user: SessionKeys, text: bytes) -> dict[str, object]:
    body = {
        "data": base64.b64encode(text).decode(),
        "signature": base64.b64encode(sign_session_message(user.private, text)).decode(),
    }
    return {
        "method": "POST",
        "endpoint": "messages",
        "body": orjson.dumps(body).decode(),
        "headers": {"Room": "main", "Authorization": token},
    }


def message_count(client: OpenGroupClient, token: str, text: bytes) -> int:
    found = client.get_messages("main", token)["messages"]
    return sum(1 for m in found if base64.b64decode(m["data"]) == text)


def test_a_replayed_v3_post_is_refused(live: RunningServer) -> None:
    user = SessionKeys.generate()
    with OpenGroupClient(live.base_url, live.public_key) as client:
        token = client.authenticate(user, "main")
        text = b"posted once " + str(time.time()).encode()
        body, cipher = v3_envelope(live, post_inner(token, user, text))
        first = send_v3(live, body, cipher)
        assert first["status_code"] == 200, first
        for _ in range(2):
            again = send_v3(live, body, cipher)
            assert again["status_code"] == 400, again
            assert "already received" in str(again["error"])
        assert message_count(client, token, text) == 1


def test_metadata_rewritten_in_transit_is_still_the_same_envelope(live: RunningServer) -> None:
    """The envelope's unencrypted JSON can be reformatted by whoever replays it; the
    ephemeral key and nonce still identify it."""
    user = SessionKeys.generate()
    with OpenGroupClient(live.base_url, live.public_key) as client:
        token = client.authenticate(user, "main")
        text = b"metadata " + str(time.time()).encode()
        body, cipher = v3_envelope(live, post_inner(token, user, text))
        assert send_v3(live, body, cipher)["status_code"] == 200
        size = int.from_bytes(body[:4], "little")
        metadata = orjson.loads(body[4 + size :])
        rewritten = body[: 4 + size] + orjson.dumps({**metadata, "extra": 1})
        assert send_v3(live, rewritten, cipher)["status_code"] == 400
        assert message_count(client, token, text) == 1


def test_an_old_unban_replayed_after_a_new_ban_does_not_unban(live: RunningServer) -> None:
    moderator, user = SessionKeys.generate(), SessionKeys.generate()
    assert live.cli("moderators", "add", moderator.session_id, "main").returncode == 0
    with OpenGroupClient(live.base_url, live.public_key) as client:
        token = client.authenticate(moderator, "main")
        headers = {"Room": "main", "Authorization": token}
        ban = {"method": "POST", "endpoint": "block_list", "headers": headers,
               "body": orjson.dumps({"public_key": user.session_id}).decode()}  # fmt: skip
        unban = {"method": "DELETE", "endpoint": f"block_list/{user.session_id}",
                 "headers": headers, "body": None}  # fmt: skip
        assert send_v3(live, *v3_envelope(live, ban))["status_code"] == 200
        unban_body, unban_cipher = v3_envelope(live, unban)
        assert send_v3(live, unban_body, unban_cipher)["status_code"] == 200
        assert send_v3(live, *v3_envelope(live, ban))["status_code"] == 200  # banned again
        assert send_v3(live, unban_body, unban_cipher)["status_code"] == 400
        banned = client.request("GET", "block_list", headers=headers)["banned_members"]
        assert user.session_id in banned


def test_a_replayed_v4_legacy_post_is_refused(live: RunningServer) -> None:
    user = SessionKeys.generate()
    with OpenGroupClient(live.base_url, live.public_key) as client:
        token = client.authenticate(user, "main")
        text = b"v4 once " + str(time.time()).encode()
        inner = post_inner(token, user, text)
        meta = {"method": "POST", "endpoint": "/legacy/messages", "headers": inner["headers"]}
        payload = bencode_strings([orjson.dumps(meta), str(inner["body"]).encode()])
        body, cipher = build_onion_request(live.public_key, payload)
        codes = []
        for _ in range(2):
            response = httpx.post(live.base_url + "/oxen/v4/lsrpc", content=body, timeout=30)
            info, _ = bdecode_strings(cipher.decrypt(response.content))
            codes.append(orjson.loads(info)["code"])
        assert codes == [200, 400]
        assert message_count(client, token, text) == 1


def test_polls_are_not_remembered(live: RunningServer) -> None:
    """Only requests that change something are recorded: a poll sent twice answers twice."""
    inner = {"method": "POST", "endpoint": "compact_poll", "headers": {},
             "body": orjson.dumps({"requests": []}).decode()}  # fmt: skip
    body, cipher = v3_envelope(live, inner)
    assert [send_v3(live, body, cipher)["status_code"] for _ in range(2)] == [200, 200]


@pytest.mark.parametrize("days", [7])
def test_envelopes_are_pruned_after_the_window(tmp_path: object, days: float) -> None:
    from opengroup.runtime.jobs import prune_once
    from opengroup.store.envelopes import ReplayedEnvelope, record_envelope
    from tests.support.fuzzing import open_in_process

    assert isinstance(tmp_path, Path)
    server = open_in_process(tmp_path / "data", replay_window_days=days)
    try:
        now = time.time()
        with server.ctx.db.write() as tx:
            record_envelope(tx, b"a" * 16, now - days * 86_400 - 1)
            record_envelope(tx, b"b" * 16, now)
        server.ctx.clock = lambda: now
        prune_once(server.ctx)
        with server.ctx.db.write() as tx:
            record_envelope(tx, b"a" * 16, now)  # forgotten: accepted again
        with pytest.raises(ReplayedEnvelope), server.ctx.db.write() as tx:
            record_envelope(tx, b"b" * 16, now)
    finally:
        server.ctx.close()


def test_a_v4_payload_of_millions_of_empty_strings_is_refused_at_once(live: RunningServer) -> None:
    """Issue 16, item 6: 10 MB of `0:` (5 million empty strings) with no token took 16 s of
    CPU. The parser stops after the items the protocol allows: the refusal costs about what
    decrypting it does, measured against a well-formed request of the same size."""

    def server_cpu() -> float:
        assert live.process is not None
        stat = Path(f"/proc/{live.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    meta = orjson.dumps({"method": "GET", "endpoint": "/capabilities"})
    flood = b"l" + b"%d:%s" % (len(meta), meta) + b"0:" * 5_000_000 + b"e"
    plain = bencode_strings([meta, b"x" * len(flood)])
    costs = []
    for payload in (plain, flood):
        body, cipher = build_onion_request(live.public_key, payload)
        before = server_cpu()
        response = httpx.post(live.base_url + "/oxen/v4/lsrpc", content=body, timeout=60)
        costs.append(server_cpu() - before)
        info, _ = bdecode_strings(cipher.decrypt(response.content))
        assert orjson.loads(info)["code"] == (400 if payload is flood else 200)
    assert costs[1] <= 3 * costs[0] + 0.2, costs
