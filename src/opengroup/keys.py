"""The server's X25519 key pair on disk: created once (mode 0600), never overwritten."""

from __future__ import annotations

import os
from pathlib import Path

from .crypto import CryptoError, ServerKeys


class KeyFileError(RuntimeError):
    """The key file exists but cannot be used; the message says which file and why."""


def load_or_create_server_keys(path: Path, create: bool = True) -> ServerKeys:
    try:
        return ServerKeys.from_pem(path.read_bytes())
    except FileNotFoundError:
        if not create:
            raise KeyFileError(f"key file {path} does not exist") from None
    except CryptoError as error:
        raise KeyFileError(f"key file {path} is not an X25519 PEM private key: {error}") from None
    except OSError as error:
        raise KeyFileError(f"cannot read key file {path}: {error.strerror}") from None
    keys = ServerKeys.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: if another process created the key meanwhile, use theirs, never overwrite.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_server_keys(path, create=False)
    with os.fdopen(fd, "wb") as handle:
        handle.write(keys.to_pem())
        handle.flush()
        os.fsync(handle.fileno())
    return keys
