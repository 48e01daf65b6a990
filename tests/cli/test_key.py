"""`opengroup key`: the server's public key, generated once (0600), never overwritten, and
taken from an `openssl genpkey -algorithm x25519` PEM when the config names one."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import assert_usage_error, og, ok, write_toml

HEX64_LINE = re.compile(r"[0-9a-f]{64}\n")


def openssl_key(path: Path) -> bytes:
    """Write a PEM with openssl; return its public key as openssl computes it."""
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "x25519", "-out", str(path)],
        check=True,
        capture_output=True,
    )
    der = subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return der[-32:]


def test_key_is_64_lowercase_hex_and_stable(data_dir: Path) -> None:
    ok(og("init", data_dir=data_dir))
    first = ok(og("key", data_dir=data_dir))
    assert HEX64_LINE.fullmatch(first.stdout), repr(first.stdout)
    assert first.stderr == ""
    key_file = data_dir / "key.pem"
    mode = stat.S_IMODE(key_file.stat().st_mode)
    assert mode == 0o600, oct(mode)
    content = key_file.read_bytes()
    second = ok(og("key", data_dir=data_dir))
    assert second.stdout == first.stdout
    assert key_file.read_bytes() == content, "the key file was rewritten"
    # Other commands use the same key and leave it alone too.
    ok(og("rooms", "list", data_dir=data_dir))
    assert key_file.read_bytes() == content
    assert ok(og("key", data_dir=data_dir)).stdout == first.stdout


def test_different_data_dirs_get_different_keys(tmp_path: Path) -> None:
    ok(og("init", data_dir=tmp_path / "one"))
    ok(og("init", data_dir=tmp_path / "two"))
    one = ok(og("key", data_dir=tmp_path / "one")).stdout
    two = ok(og("key", data_dir=tmp_path / "two")).stdout
    assert one != two


def test_existing_openssl_pem_in_data_dir_is_used(data_dir: Path) -> None:
    data_dir.mkdir()
    public = openssl_key(data_dir / "key.pem")
    content = (data_dir / "key.pem").read_bytes()
    assert public.hex() in ok(og("init", data_dir=data_dir)).stdout, "init keeps the key"
    assert ok(og("key", data_dir=data_dir)).stdout == public.hex() + "\n"
    assert (data_dir / "key.pem").read_bytes() == content


def test_config_private_key_file_from_openssl(tmp_path: Path, data_dir: Path) -> None:
    pem = tmp_path / "k.pem"
    public = openssl_key(pem)
    content = pem.read_bytes()
    config = write_toml(tmp_path / "og.toml", f'private_key_file = "{pem}"\n')
    ok(og("init", "--config", str(config), data_dir=data_dir))
    result = ok(og("key", "--config", str(config), data_dir=data_dir))
    assert result.stdout == public.hex() + "\n"
    assert pem.read_bytes() == content, "the operator's PEM was rewritten"
    assert not (data_dir / "key.pem").exists(), "a second key was generated"


def test_private_key_file_from_environment(tmp_path: Path, data_dir: Path) -> None:
    pem = tmp_path / "k.pem"
    public = openssl_key(pem)
    ok(og("init", data_dir=data_dir, env={"OPENGROUP_PRIVATE_KEY_FILE": str(pem)}))
    result = ok(og("key", data_dir=data_dir, env={"OPENGROUP_PRIVATE_KEY_FILE": str(pem)}))
    assert result.stdout == public.hex() + "\n"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"not a key at all\n", id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", id="bad-pem"
        ),
    ],
)
def test_unusable_key_file_is_an_error_and_never_overwritten(
    data_dir: Path, content: bytes
) -> None:
    data_dir.mkdir()
    (data_dir / "key.pem").write_bytes(content)
    assert_usage_error(og("key", data_dir=data_dir))
    assert (data_dir / "key.pem").read_bytes() == content


def test_ed25519_pem_is_refused(tmp_path: Path, data_dir: Path) -> None:
    pem = tmp_path / "ed.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(pem)],
        check=True,
        capture_output=True,
    )
    content = pem.read_bytes()
    config = write_toml(tmp_path / "og.toml", f'private_key_file = "{pem}"\n')
    assert_usage_error(og("key", "--config", str(config), data_dir=data_dir))
    assert pem.read_bytes() == content
