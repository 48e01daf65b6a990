"""The modern API's crypto against bytes produced by Session Desktop 1.17.17's own code.

Every entry of `shared/testdata/modern-client-vectors.json` (copy in tests/data) is one test
case; the format is the one `shared/testdata/check_modern_vectors.py` reads. A missing file is
a failure, never a skip: set OPENGROUP_MODERN_VECTORS to point elsewhere.

What the API layer's tests must add, since crypto alone cannot check it: replaying each
`onion_v4` payload through `POST /oxen/v4/lsrpc` and comparing the reply's code, headers and
body with the recorded ones (exact `content-type`s, §2.3); the global ban (row 10) and nonce
reuse (row 12, including Desktop's repeats answered 425); the `batch` section (sub-request
paths and codes), which holds no cryptography.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import pytest

from opengroup.crypto import EncType, OnionCipher, ServerKeys, open_onion_request
from opengroup.crypto.blinding import blinded_candidates, blinding_factor, root_session_id
from opengroup.crypto.message_signatures import verify_message_signature
from opengroup.crypto.request_auth import (
    BLINDING_REQUIRED_TEXT,
    SIGNATURE_FAILED_TEXT,
    SogsAuthError,
    SogsCredentials,
    parse_sogs_credentials,
    signed_path,
    verify_request_signature,
)
from opengroup.testing.modern import (
    BlindedUser,
    decode_v4_reply,
    decode_v4_request,
    encode_v4_request,
)
from tests.support.spec import spec_file

Entry = dict[str, Any]

VECTORS_PATH = Path(
    os.environ.get("OPENGROUP_MODERN_VECTORS") or spec_file("modern-client-vectors.json")
)


def _load() -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return data


VECTORS = _load()
MISSING = f"modern client vectors not found at {VECTORS_PATH} (set OPENGROUP_MODERN_VECTORS)"


def _need(entry: Entry | None) -> Entry:
    if entry is None or VECTORS is None:
        pytest.fail(MISSING)
    return entry


def _vectors() -> dict[str, Any]:
    assert VECTORS is not None, MISSING
    return VECTORS


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")[:40]


def _params(section: str, kind: str, make_id: Callable[[int, Entry], str]) -> list[Any]:
    if VECTORS is None:
        return [pytest.param(None, id=f"{section}-{kind}-vectors-missing")]
    return [
        pytest.param(entry, id=make_id(index, entry))
        for index, entry in enumerate(VECTORS[section][kind])
    ]


def _request_id(index: int, entry: Entry) -> str:
    reason = entry.get("mutation") or entry.get("why") or ""
    endpoint = _slug(entry["endpoint"])
    return f"{index:02d}-{entry['client']}-{entry['method']}-{endpoint}-{_slug(reason)}"


def _b64(value: str | None) -> bytes | None:
    return None if value is None else base64.b64decode(value)


def _server_pk() -> bytes:
    return bytes.fromhex(_vectors()["server"]["public_hex"])


def _other_server_pk() -> bytes:
    return bytes.fromhex(_vectors()["server"]["other_server_public_hex"])


def _blinding_entry(client: str) -> Entry:
    """The blinding entry of a vector client ("A", "B", "MOD", "ADMIN")."""
    for entry in _vectors()["blinding"]["entries"]:
        if entry["label"] == f"harness {client}":
            return entry
    raise AssertionError(f"no blinding entry for client {client}")


def _known_15() -> dict[str, str]:
    """Every 15 id of the vectors -> its 05 id."""
    return {e["blinded_id_15"]: e["session_id_05"] for e in _vectors()["blinding"]["entries"]}


def _authenticate(
    request_headers: dict[str, str],
    method: str,
    endpoint: str,
    body: bytes | None,
    *,
    server_pk: bytes,
    blinding_required: bool,
) -> SogsCredentials | None:
    """Rows 1-9 and 11 as the API layer chains them, `now` = the request's own timestamp."""
    lowered = {name.lower(): str(value) for name, value in request_headers.items()}
    now = float(lowered.get("x-sogs-timestamp") or 0)
    credentials = parse_sogs_credentials(lowered, now=now, blinding_required=blinding_required)
    if credentials is not None:
        path, query = signed_path(endpoint)
        verify_request_signature(credentials, server_pk, method, path, query, body or b"")
    return credentials


def test_vectors_are_present_and_cover_every_section() -> None:
    vectors = _vectors()
    server = vectors["server"]
    assert (
        bytes(sodium.crypto_scalarmult_base(bytes.fromhex(server["private_hex"]))).hex()
        == (server["public_hex"])
    )
    assert server["require_blind"] is True and "blind" in server["capabilities"]
    assert len(vectors["blinding"]["entries"]) >= 4
    assert vectors["x_sogs"]["valid"] and vectors["x_sogs"]["invalid"]
    assert vectors["messages"]["valid"] and vectors["messages"]["invalid"]
    assert vectors["onion_v4"]["requests"]


# ---------------------------------------------------------------------------- blinding


@pytest.mark.parametrize(
    "entry", _params("blinding", "entries", lambda i, e: f"{i:02d}-{_slug(e['label'])}")
)
def test_blinding_entry(entry: Entry | None) -> None:
    entry = _need(entry)
    server_pk = _server_pk()
    user = BlindedUser.from_seed(entry["ed25519_seed_hex"])
    assert user.ed25519_public.hex() == entry["ed25519_pubkey_hex"]
    assert user.session_id == entry["session_id_05"]
    assert blinding_factor(server_pk).hex() == entry["k_hex"]
    ka, big_ka = user.blinded_keys(server_pk)
    assert ka.hex() == entry["ka_hex"]
    assert "15" + big_ka.hex() == user.blinded_id(server_pk) == entry["blinded_id_15"]
    # Server side: the exact root, and the 15 id among the 05 id's two candidates.
    assert root_session_id(entry["blinded_id_15"], server_pk) == entry["session_id_05"]
    assert entry["blinded_id_15"] in blinded_candidates(entry["session_id_05"], server_pk)


# ---------------------------------------------------------------------------- x_sogs


@pytest.mark.parametrize("entry", _params("x_sogs", "valid", _request_id))
def test_x_sogs_valid(entry: Entry | None) -> None:
    entry = _need(entry)
    credentials = _authenticate(
        entry["headers"],
        entry["method"],
        entry["endpoint"],
        _b64(entry["body"]),
        server_pk=_server_pk(),
        blinding_required=True,
    )
    assert credentials is not None
    assert credentials.session_id == entry["headers"]["X-SOGS-Pubkey"]
    known = _known_15()
    assert credentials.session_id in known
    assert root_session_id(credentials.session_id, _server_pk()) == known[credentials.session_id]
    # The same headers for another server are refused at the signature (row 11).
    with pytest.raises(SogsAuthError) as caught:
        _authenticate(
            entry["headers"],
            entry["method"],
            entry["endpoint"],
            _b64(entry["body"]),
            server_pk=_other_server_pk(),
            blinding_required=True,
        )
    assert (caught.value.status, caught.value.text) == (401, SIGNATURE_FAILED_TEXT)


def _percent_encoded_emoji(entry: Entry) -> bool:
    return "percent-encoded" in (entry.get("mutation") or "")


@pytest.mark.parametrize("entry", _params("x_sogs", "invalid", _request_id))
def test_x_sogs_invalid(entry: Entry | None) -> None:
    """Each invalid entry gets the §3.4 row its difference maps to.

    - a 00 key on this server (require_blind) -> row 5, 400; the key's signature itself is
      valid, so with blinding off the same request is accepted as the key's 05 id;
    - every other mutation (signature, path, query, body, timestamp, nonce, method, another
      user's key, another server's key) -> row 11, 401: rows 1-9 all pass;
    - the emoji path sent %-encoded: §3.2 and §4.6 V2 (normative) say the server decodes %XX
      once before verifying, so this request, signed over the raw UTF-8 path, VERIFIES here.
      The vector's checker compares the undecoded endpoint; SOGS-API.md wins over it.
    """
    entry = _need(entry)
    headers = entry["headers"]
    body = _b64(entry["body"])
    server_pk = _server_pk()

    def run(*, blinding_required: bool = True) -> SogsCredentials | None:
        return _authenticate(
            headers,
            entry["method"],
            entry["endpoint"],
            body,
            server_pk=server_pk,
            blinding_required=blinding_required,
        )

    if _percent_encoded_emoji(entry):
        credentials = run()
        assert credentials is not None and credentials.session_id == headers["X-SOGS-Pubkey"]
        # Signed over the raw path: the same headers verify with the endpoint Desktop sent.
        path, _ = signed_path(entry["endpoint"])
        assert path != entry["endpoint"]
        raw = _authenticate(
            headers, entry["method"], path, body, server_pk=server_pk, blinding_required=True
        )
        assert raw == credentials
        return

    if headers["X-SOGS-Pubkey"].startswith("00"):
        assert entry.get("server_status") in (None, 400)
        with pytest.raises(SogsAuthError) as caught:
            run()
        assert (caught.value.status, caught.value.text) == (400, BLINDING_REQUIRED_TEXT)
        credentials = run(blinding_required=False)
        assert credentials is not None and not credentials.blinded
        user = _blinding_entry(entry["client"])
        assert headers["X-SOGS-Pubkey"] == "00" + user["ed25519_pubkey_hex"]
        assert credentials.session_id == user["session_id_05"]
        return

    with pytest.raises(SogsAuthError) as caught:
        run()
    assert (caught.value.status, caught.value.text) == (401, SIGNATURE_FAILED_TEXT)

    if "other_server" in entry["why"]:
        # Made by Desktop for the other server: its 15 id and signature are valid there.
        user = BlindedUser.from_seed(_blinding_entry(entry["client"])["ed25519_seed_hex"])
        assert headers["X-SOGS-Pubkey"] == user.blinded_id(_other_server_pk())
        assert headers["X-SOGS-Pubkey"] not in _known_15()
        server_pk = _other_server_pk()
        assert run() is not None


# ---------------------------------------------------------------------------- messages


def _message_id(index: int, entry: Entry) -> str:
    reason = entry.get("mutation") or entry.get("why") or str(entry.get("server_id"))
    return f"{index:02d}-{entry['client']}-{_slug(reason)}"


@pytest.mark.parametrize("entry", _params("messages", "valid", _message_id))
def test_message_valid(entry: Entry | None) -> None:
    entry = _need(entry)
    data, signature = base64.b64decode(entry["data"]), base64.b64decode(entry["signature"])
    sender = entry["session_id_blinded"]
    assert verify_message_signature(sender, data, signature)
    assert entry["server_session_id"] == sender  # the server keeps the signing 15 id (§1.2)
    assert sender in _known_15()
    assert not verify_message_signature(sender, data + b"\x00", signature)
    # The sender's 05 root is not the signer: its XEdDSA check fails.
    assert not verify_message_signature(_known_15()[sender], data, signature)


@pytest.mark.parametrize("entry", _params("messages", "invalid", _message_id))
def test_message_invalid(entry: Entry | None) -> None:
    entry = _need(entry)
    data, signature = base64.b64decode(entry["data"]), base64.b64decode(entry["signature"])
    sender = entry["session_id_blinded"]
    assert not verify_message_signature(sender, data, signature)
    if "other_server" in entry["why"]:
        # Signed with the blinded key for the other server: valid under that 15 id.
        user = BlindedUser.from_seed(_blinding_entry(entry["client"])["ed25519_seed_hex"])
        assert verify_message_signature(user.blinded_id(_other_server_pk()), data, signature)
    if sender.startswith("00"):
        # A 00 key names no user (False whatever the signature); this one was in fact made
        # with the blinded key, and verifies under the sender's 15 id.
        user = BlindedUser.from_seed(_blinding_entry(entry["client"])["ed25519_seed_hex"])
        assert sender == user.unblinded_pubkey
        assert verify_message_signature(user.blinded_id(_server_pk()), data, signature)


# ---------------------------------------------------------------------------- onion v4


def _onion_id(index: int, entry: Entry) -> str:
    meta = entry["request"]["inner_meta"]
    return f"{index:02d}-{entry['client']}-{meta['method']}-{_slug(meta['endpoint'])}"


@pytest.mark.parametrize("entry", _params("onion_v4", "requests", _onion_id))
def test_onion_v4_request(entry: Entry | None) -> None:
    entry = _need(entry)
    request = entry["request"]
    keys = ServerKeys.from_private_bytes(bytes.fromhex(_vectors()["server"]["private_hex"]))
    plaintext, cipher = open_onion_request(keys, base64.b64decode(request["payload"]))
    assert cipher.enc_type is EncType.AES_GCM  # no enc_type in Desktop's outer JSON
    assert plaintext == base64.b64decode(request["inner_plaintext"])

    meta, body = decode_v4_request(plaintext)
    assert meta == request["inner_meta"]
    assert body == _b64(request["inner_body"])
    if request.get("same_as_desktop_encodeV4Request"):
        assert encode_v4_request(meta, body) == plaintext

    credentials = _authenticate(
        meta.get("headers", {}),
        meta["method"],
        meta["endpoint"],
        body,
        server_pk=keys.public,
        blinding_required=True,
    )
    if "X-SOGS-Pubkey" in meta.get("headers", {}):
        assert credentials is not None and credentials.session_id in _known_15()
    else:
        assert credentials is None  # D17 sends GET /rooms unsigned

    reply = entry.get("reply")
    if reply is None:
        return  # no reply recorded: only the request side can be checked
    recorded = base64.b64decode(reply["plaintext"])
    assert cipher.decrypt(base64.b64decode(reply["encrypted"])) == recorded
    reply_meta, reply_body = decode_v4_reply(recorded)
    assert reply_meta == reply["meta"]
    assert reply_body == base64.b64decode(reply["body"])
    assert reply_meta["code"] == reply["desktop_decoded"]["status_code"]
    assert "content-type" in reply_meta["headers"]  # §2.3 rule 1, which Desktop needs
    # Our side of the reply: encrypt the recorded plaintext, and the request's key opens it.
    sealed = cipher.encrypt(recorded)
    assert sealed != base64.b64decode(reply["encrypted"])  # fresh IV
    assert OnionCipher(EncType.AES_GCM, cipher.key).decrypt(sealed) == recorded


def test_the_server_never_imports_the_test_client() -> None:
    """opengroup.testing signs as clients do; no server module may depend on it."""
    source = Path(__file__).resolve().parents[2] / "src" / "opengroup"
    pattern = re.compile(r"^\s*(from|import)\s+(opengroup\.testing|\.+testing)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if "testing" not in path.relative_to(source).parts
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
