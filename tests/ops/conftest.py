"""Helpers for the operator-command tests: servers, clients, reading a room back in full."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from opengroup.crypto import ServerKeys, SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer, run_cli


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`opengroup ARGS`, asserting success."""
    done = run_cli(*args)
    assert done.returncode == 0, f"opengroup {' '.join(args)} failed:\n{done.stderr}"
    return done


def refused(*args: str) -> str:
    """`opengroup ARGS` must fail as an operator error (exit 2, one line); returns it."""
    done = run_cli(*args)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def server_key(data_dir: Path) -> ServerKeys:
    return ServerKeys.from_pem((data_dir / "key.pem").read_bytes())


def client_for(server: RunningServer, public_hex: str) -> OpenGroupClient:
    return OpenGroupClient(server.base_url, bytes.fromhex(public_hex), transport="legacy")


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["status_code"] == 200, reply
    return reply


def all_messages(og: OpenGroupClient, room: str, token: str) -> list[dict[str, Any]]:
    """Every message of the room, ascending, through the API (pages of 256)."""
    found: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = ok(og.get_messages(room, token, from_server_id=cursor, limit=256))["messages"]
        found += page
        if len(page) < 256:
            return found
        cursor = page[-1]["server_id"]


def all_deletions(og: OpenGroupClient, room: str, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = 0
    headers = {"Room": room, "Authorization": token}
    while True:
        reply = ok(og.request("GET", f"deleted_messages?from_server_id={cursor}", headers=headers))
        found += reply["ids"]
        if len(reply["ids"]) < 256:
            return found
        cursor = reply["ids"][-1]["id"]


def join(og: OpenGroupClient, room: str) -> tuple[SessionKeys, str]:
    user = SessionKeys.generate()
    return user, og.authenticate(user, room)
