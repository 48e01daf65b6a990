"""The server's X25519 key pair on disk: created once (mode 0600), never overwritten."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from . import CryptoError, ServerKeys


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
    # Written whole to a private temporary file first, then linked into place: a crash at any
    # moment leaves either no key file or a complete one, never an empty one that would stop
    # every later start. link() fails if the name exists: if another process created the key
    # meanwhile, use theirs, never overwrite.
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(keys.to_pem())
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)
    except FileExistsError:
        return load_or_create_server_keys(path, create=False)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return keys
