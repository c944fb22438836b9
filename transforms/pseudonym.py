"""Keyed pseudonyms for people in the subscriber registry, so analysts can count numbers per person.

A plain hash of an ID number is no pseudonym: Vietnamese ID numbers have a small, structured space
(12 digits with province, sex and birth year inside), so anyone can hash them all and reverse it. An
HMAC-SHA-256 under a secret key cannot be reversed without the key. The key comes from the environment
(``SUBFLAG_PSEUDONYM_KEY``, hex) or from a key file named in config (``run.toml`` ``paths.pseudonym_key``).
When neither exists a random key file is created, private to the running user, and a warning says so:
that key must be kept (and backed up), because a new key gives every person a new pseudonym.

The key never enters the warehouse. DuckDB computes the HMAC from the two padded key blocks passed as
query parameters (``hmac_ipad``/``hmac_opad``), so pseudonyms are computed over whole columns in SQL
and :func:`PseudonymKey.pseudonym` is the reference implementation the tests compare it with.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from transforms.config import PROJECT_ROOT, Settings

log = logging.getLogger("subflag.pseudonym")

KEY_ENV = "SUBFLAG_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32
_BLOCK = 64  # SHA-256 block size
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HOW_TO = "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"


class PseudonymKeyError(ValueError):
    """The configured key is unusable; the message says where it came from and what was expected."""


@dataclass(frozen=True)
class PseudonymKey:
    key: bytes = field(repr=False)
    source: str
    created: bool = False

    def _pads(self) -> tuple[bytes, bytes]:
        k = hashlib.sha256(self.key).digest() if len(self.key) > _BLOCK else self.key
        k = k.ljust(_BLOCK, b"\0")
        return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)

    def sql_params(self) -> dict[str, bytes]:
        """The inner and outer HMAC key blocks, for the ``hmac_sha256`` expression in SQL models."""
        ipad, opad = self._pads()
        return {"hmac_ipad": ipad, "hmac_opad": opad}

    def pseudonym(self, id_number: str) -> str | None:
        """Hex HMAC-SHA-256 of the normalised ID number (same normalisation as the SQL macro ``id_key``)."""
        normalised = id_document_key(id_number)
        if normalised is None:
            return None
        return hmac.new(self.key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def id_document_key(value: str | None) -> str | None:
    """Letters and digits only, upper case: '012 345.678-901' and '012345678901' are one document."""
    if value is None:
        return None
    key = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    return key or None


def _decode(text: str, where: str) -> bytes:
    text = text.strip()
    if not _HEX.match(text) or len(text) % 2:
        raise PseudonymKeyError(f"{where}: expected the key as hexadecimal digits; {_HOW_TO}")
    key = bytes.fromhex(text)
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"{where}: key is {len(key)} bytes; expected at least {MIN_KEY_BYTES} ({_HOW_TO})")
    return key


def _inside_repository(path: Path) -> bool:
    """True for a path in the project tree outside its git-ignored ``data/`` folder."""
    root = PROJECT_ROOT.resolve()
    p = path.resolve()
    return (p == root or root in p.parents) and (root / "data") not in p.parents


def _create_key_file(path: Path) -> bytes:
    if _inside_repository(path):
        raise PseudonymKeyError(
            f"{path}: refusing to create a pseudonym key inside the repository; "
            f"set {KEY_ENV} or point run.toml paths.pseudonym_key under data/ or outside the project"
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(MIN_KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    os.chmod(path, 0o600)
    return key


def load_key(key_file: Path | str, *, env: Mapping[str, str] | None = None, create: bool = True) -> PseudonymKey:
    """The environment key if set, else the key file; creates a new key file when neither exists and ``create``."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return PseudonymKey(_decode(env[KEY_ENV], f"environment variable {KEY_ENV}"), f"env {KEY_ENV}")
    path = Path(key_file)
    if path.is_file():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("pseudonym key file %s is readable by other users (mode %o); chmod 600 it", path, mode)
        return PseudonymKey(_decode(path.read_text(encoding="ascii", errors="replace"), str(path)), f"file {path}")
    if path.exists():
        raise PseudonymKeyError(f"{path}: expected a key file, found something else")
    if not create:
        raise PseudonymKeyError(f"no pseudonym key: {KEY_ENV} is not set and {path} does not exist")
    key = _create_key_file(path)
    log.warning(
        "no pseudonym key found (%s unset, no file at %s): created a new random key there (mode 0600). "
        "Keep and back up this file: a different key gives every person a different pseudonym.",
        KEY_ENV,
        path,
    )
    return PseudonymKey(key, f"new file {path}", created=True)


def key_for(settings: Settings, *, create: bool = True) -> PseudonymKey:
    return load_key(settings.run.paths.pseudonym_key, create=create)
