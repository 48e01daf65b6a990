"""crypto/blinding.py: §4.1 and §4.3 of SOGS-API.md, pinned by §4.6 V1, V4 and V5."""

from __future__ import annotations

import os

import nacl.bindings as sodium
import pytest

from opengroup.crypto.blinding import (
    InvalidSessionId,
    blinded_candidates,
    blinding_factor,
    is_valid_ed25519_point,
    root_session_id,
)
from opengroup.testing.modern import BlindedUser

V4_SERVER_PK = bytes.fromhex("6a32c7b491f4199dd1260a4cc60ae51c6bd71dad939cc521e738409f53f943be")
V4_K = "52f2b25544f805cfd7be34f3581be33d0f16e25048fe29f2abc14f4e8fe2000d"
V4_ROWS = [
    (
        "880adf5164a79bce71f7387fbc2cb2693c0bf0ab4cb42bf1edafddade7527a66",
        "05c506fee5118680107a4722f60a05dfcbb5737d6ffc4d163fb60479e279c6095d",
        "15cef185d46b60a548641bd8c5baa4b7cf90b7da8e883c0ac774c703d249086479",
        "pos",
    ),
    (
        "67416582e0700081604860d270bc986011fc5e62c53de908a9a5af2cb497c528",
        "05e7ddb41d2dbefc7c3cbb9173e4581498f82436633f093f66b101e0ee9d63d21f",
        "15f8fbeb20cdde5e0cc0ec84e0b3705ca6090c7b23e8132589970473a5592ba388",
        "pos",
    ),
    (
        "a5ad71709cfa315d147921e377186270367fd06926f4dbfe33f519dec6b016f7",
        "059ff1cd36f22a9478d5d61259f95b18d877ae021b21fc193b6888006f9b8e6564",
        "15758e10dc51210d7a36ea6076e2aa84d9f87283bddb508364272dce0a7618f92a",
        "pos",
    ),
    (
        "c929a389a0dcf375ae8177891655b3835773e3a2d6d27490de8b8a160ca472f8",
        "05f61b94ea9509a0ceb179005caa17dd43fb3a3b4f68d450def4eda041bf005c63",
        "1515ad8f8c5e56b31078a4a5ae73938bd523b1c86ea36033d564759e4495fbb64d",
        "neg",
    ),
]
V1_SERVER_PK = bytes.fromhex("c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d")
V1_SEED = "c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9"
V1_05 = "0588672ccb97f40bb57238989226cf429b575ba355443f47bc76c5ab144a96c65b"
V1_15 = "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5"
# V5: a point of order 8 (small order): valid encoding, not in the prime-order subgroup.
SMALL_ORDER = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
P = 2**255 - 19


def test_blinding_factors_of_v1_and_v4() -> None:
    assert blinding_factor(V4_SERVER_PK).hex() == V4_K
    assert blinding_factor(V1_SERVER_PK).hex() == (
        "84e3eb75028a9b73fec031b7448e322a68ca6485fad81ab1bead56f759ebeb0f"
    )


@pytest.mark.parametrize(("seed", "id05", "id15", "which"), V4_ROWS, ids=lambda v: str(v)[:8])
def test_v4_seed_to_05_to_15(seed: str, id05: str, id15: str, which: str) -> None:
    user = BlindedUser.from_seed(seed)
    assert user.session_id == id05
    assert which == ("neg" if user.ed25519_public[31] & 0x80 else "pos")
    assert user.blinded_id(V4_SERVER_PK) == id15
    assert root_session_id(id15, V4_SERVER_PK) == id05
    pos, neg = blinded_candidates(id05, V4_SERVER_PK)
    assert {"pos": pos, "neg": neg}[which] == id15
    assert {pos, neg} - {id15} == {(neg if which == "pos" else pos)}


def test_v1_blinded_pubkey_is_the_neg_candidate() -> None:
    user = BlindedUser.from_seed(V1_SEED)
    assert (user.session_id, user.blinded_id(V1_SERVER_PK)) == (V1_05, V1_15)
    assert root_session_id(V1_15, V1_SERVER_PK) == V1_05
    assert blinded_candidates(V1_05, V1_SERVER_PK)[1] == V1_15


@pytest.mark.parametrize("round_", range(20))
def test_random_seeds_round_trip(round_: int) -> None:
    user = BlindedUser.generate()
    server_pk = os.urandom(32)
    blinded = user.blinded_id(server_pk)
    assert root_session_id(blinded, server_pk) == user.session_id
    pos, neg = blinded_candidates(user.session_id, server_pk)
    # kA = k·(±A⁺) = ±pos: the user's key sign bit says which candidate is theirs.
    assert blinded == (neg if user.ed25519_public[31] & 0x80 else pos)
    assert pos != neg
    # The negated twin un-blinds to the same root.
    assert root_session_id(neg if blinded == pos else pos, server_pk) == user.session_id
    # Another server: another 15 id, the same root.
    other = os.urandom(32)
    assert user.blinded_id(other) != blinded
    assert root_session_id(user.blinded_id(other), other) == user.session_id


def test_a_05_id_is_its_own_root_and_any_case_is_accepted() -> None:
    assert root_session_id(V1_05, V1_SERVER_PK) == V1_05
    assert root_session_id(V1_05.upper(), V1_SERVER_PK) == V1_05
    assert root_session_id(V1_15.upper(), V1_SERVER_PK) == V1_05


def test_root_is_cached() -> None:
    root_session_id(V1_15, V1_SERVER_PK)
    hits = root_session_id.cache_info().hits
    assert root_session_id(V1_15, V1_SERVER_PK) == V1_05
    assert root_session_id.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "15",
        V1_15[:-1],
        V1_15 + "0",
        "15" + "g" * 64,
        "16" + V1_15[2:],
        "00" + V1_15[2:],
        "25" + V1_15[2:],  # 25 -> 05 is impossible (§4.5)
        "15" + "00" * 32,  # small order (the identity's neighbour: y = 0)
        "15" + SMALL_ORDER.hex(),  # V5
        "15" + bytes(31).hex() + "01",  # not on the curve
    ],
)
def test_root_refuses_malformed_ids_and_bad_points(bad: str) -> None:
    with pytest.raises(InvalidSessionId):
        root_session_id(bad, V1_SERVER_PK)


def test_root_refuses_a_non_string() -> None:
    with pytest.raises(InvalidSessionId):
        root_session_id(123, V1_SERVER_PK)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        V1_15,  # candidates are computed from 05 ids only
        "05" + "zz" * 32,
        "05" + (P - 1).to_bytes(32, "little").hex(),  # u = -1: no Edwards y
        "05" + (0).to_bytes(32, "little").hex(),  # small order
        "05" + (2).to_bytes(32, "little").hex(),  # on the twist, not the curve
    ],
)
def test_candidates_refuse_malformed_ids_and_bad_points(bad: str) -> None:
    with pytest.raises(InvalidSessionId):
        blinded_candidates(bad, V1_SERVER_PK)


def test_is_valid_ed25519_point() -> None:
    user = BlindedUser.from_seed(V1_SEED)
    assert is_valid_ed25519_point(user.ed25519_public)
    assert is_valid_ed25519_point(bytes.fromhex(V1_15[2:]))
    assert not is_valid_ed25519_point(bytes(32))
    assert not is_valid_ed25519_point(b"\x01" + bytes(31))  # the identity
    assert not is_valid_ed25519_point(SMALL_ORDER)
    mixed = sodium.crypto_core_ed25519_add(user.ed25519_public, SMALL_ORDER)
    assert not is_valid_ed25519_point(mixed)
    assert not is_valid_ed25519_point(user.ed25519_public[:31])
    assert not is_valid_ed25519_point(user.ed25519_public.hex())  # type: ignore[arg-type]
