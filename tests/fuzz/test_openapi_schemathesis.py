"""The direct HTTP API (`/legacy/*`) against its own OpenAPI document, with schemathesis.

The document is the one the server serves at /openapi.json (checked below); schemathesis
generates requests for every operation, valid and invalid, and checks that no answer is a
server error and that every answer has a documented status code, content type and body shape.

Most requests carry a real moderator's Room and Authorization headers (and aim at a message and
a file that exist) so that they get past authentication; the rest keep what schemathesis drew.
The server runs without signature checks, so that generated messages can be posted too.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opengroup.api.legacy.routes import ROUTES
from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from opengroup.web.openapi import openapi_document
from tests.support.fuzzing import fuzz_settings
from tests.support.server import RunningServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(openapi_document())


@dataclass
class Target:
    server: RunningServer
    public_key: bytes
    mod: SessionKeys
    token: str
    message_id: int
    file_id: int

    def fresh_token(self) -> str:
        with OpenGroupClient(self.server.base_url, self.public_key, transport="legacy") as c:
            return c.authenticate(self.mod, "main")


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = RunningServer(
        data_dir=tmp_path_factory.mktemp("schemathesis") / "data",
        extra_args=("--no-verify-signatures", "--max-file-size", "100000"),
    )
    server.start()
    mod = SessionKeys.generate()
    server.cli("moderators", "add", mod.session_id, "main")
    public_key = server.public_key
    with OpenGroupClient(server.base_url, public_key, transport="legacy") as client:
        token = client.authenticate(mod, "main")
        message_id = client.post_message("main", token, mod, b"target")["message"]["server_id"]
        file_id = client.upload_file("main", token, b"target file")["result"]
    yield Target(server, public_key, mod, token, message_id, file_id)
    server.stop()


def test_the_served_document_is_the_one_tested(target: Target) -> None:
    served = httpx.get(target.server.base_url + "/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.json() == openapi_document()
    documented = {
        (method.upper(), path.removeprefix("/legacy/"))
        for path, operations in served.json()["paths"].items()
        for method in operations
    }
    assert documented == {(route.method, route.pattern) for route in ROUTES}


@schema.parametrize()
@fuzz_settings(scale=0.5)
def test_api_matches_its_openapi_document(case: schemathesis.Case[Any], target: Target) -> None:
    aim = random.random()
    if aim < 0.75:
        token = target.token
        if case.method == "DELETE" and case.path == "/legacy/auth_token":
            token = target.fresh_token()  # revoking the shared token would stop the others
        case.headers["Room"] = "main"
        case.headers["Authorization"] = token
    if aim < 0.5 and case.path_parameters:
        known = {
            "room_id": "main",
            "server_id": target.message_id,
            "file_id": target.file_id,
        }
        case.path_parameters = {
            name: known.get(name, value) for name, value in case.path_parameters.items()
        }
    case.call_and_validate(base_url=target.server.base_url, checks=CHECKS)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/legacy/rooms/a%0Ab/image", 404),  # found by schemathesis: was text/plain
        ("GET", "/legacy/%0A", 404),
        ("PUT", "/legacy/rooms", 405),
        ("PATCH", "/legacy/messages", 405),
    ],
)
def test_requests_no_route_matches_still_get_a_json_reply(
    target: Target, method: str, path: str, status: int
) -> None:
    response = httpx.request(method, target.server.base_url + path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status_code"] == status
