"""Ed25519 keys and detached signatures for information-request packages.

A package leaves the carrier by e-mail, USB stick or an authority's portal; the signature over the
manifest (which pins every member's SHA-256) lets the recipient prove nobody changed it on the way.
The signature file holds the raw 64 signature bytes, so it also checks without this tool:
``openssl pkeyutl -verify -pubin -inkey KEY.pub.pem -rawin -in manifest.json -sigfile manifest.sig``.

Keys never live in the repository: the private key comes from ``SUBFLAG_SIGNING_KEY`` or the configured
keys folder (``run.paths.signing_keys``, git-ignored ``data/keys`` by default) and must be private to its owner.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from transforms.writers import atomic_path, ensure_private_dir

SIGNING_KEY_ENV = "SUBFLAG_SIGNING_KEY"
PRIVATE_KEY_NAME = "signing_ed25519.pem"
PRIVATE_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


class SigningKeyError(ValueError):
    """A signing key is missing, unreadable, of the wrong kind or not private; the message names the file."""


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_path: Path
    source: Literal["env", "keys_dir", "created"]
    message: str

    @property
    def created(self) -> bool:
        return self.source == "created"


def public_path_for(private_path: Path) -> Path:
    """``signing_ed25519.pem`` → ``signing_ed25519.pub.pem``: the public half always sits beside the private."""
    return private_path.with_name(f"{private_path.stem}.pub.pem")


def _private_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _write(path: Path, data: bytes, mode: int) -> None:
    with atomic_path(path, mode) as tmp:
        tmp.write_bytes(data)


def init_keys(folder: Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Create a new key pair in a 0700 folder, private key 0600; never silently replace an existing key,
    because packages already sent would then no longer verify against the published public key."""
    ensure_private_dir(folder)
    private_path = folder / PRIVATE_KEY_NAME
    public_path = public_path_for(private_path)
    if private_path.exists() and not overwrite:
        raise FileExistsError(f"{private_path} already exists; refusing to replace a signing key (use overwrite)")
    key = Ed25519PrivateKey.generate()
    _write(private_path, _private_bytes(key), PRIVATE_FILE_MODE)
    _write(public_path, _public_bytes(key.public_key()), PUBLIC_FILE_MODE)
    return private_path, public_path


def _check_private_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SigningKeyError(
            f"private signing key {path} is accessible to other users (mode {mode:04o}); expected 0600 "
            f"(run: chmod 600 {path})"
        )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    if not path.is_file():
        raise SigningKeyError(f"private signing key {path} does not exist")
    _check_private_mode(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path}: expected an unencrypted PEM (PKCS#8) private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: expected an Ed25519 private key, got {type(key).__name__}")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    if not path.is_file():
        raise SigningKeyError(f"public key {path} does not exist")
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except ValueError as exc:
        raise SigningKeyError(f"{path}: expected a PEM (SubjectPublicKeyInfo) public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path}: expected an Ed25519 public key, got {type(key).__name__}")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key: short enough to read out over the phone to an authority."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_fingerprint_of_private(private_key_path: Path) -> str:
    return fingerprint(load_private_key(private_key_path).public_key())


def public_fingerprint(public_key_path: Path) -> str:
    return fingerprint(load_public_key(public_key_path))


def load_or_create_keys(settings_keys_dir: Path, *, env: Mapping[str, str] | None = None) -> KeyPair:
    """Resolve the signing key: ``SUBFLAG_SIGNING_KEY`` if set, else the keys folder, else create one there
    (first run: ``make demo`` works out of the box, and ``message`` says where the new key is)."""
    environ = os.environ if env is None else env
    configured = environ.get(SIGNING_KEY_ENV, "").strip()
    if configured:
        private_path = Path(configured).expanduser()
        if not private_path.is_file():
            raise SigningKeyError(f"{SIGNING_KEY_ENV} points to {private_path}, which does not exist")
        key = load_private_key(private_path)
        public_path = public_path_for(private_path)
        _ensure_public_half(key, public_path)
        return KeyPair(private_path, public_path, "env", f"signing with the key from {SIGNING_KEY_ENV}: {private_path}")
    private_path = settings_keys_dir / PRIVATE_KEY_NAME
    if private_path.is_file():
        key = load_private_key(private_path)
        public_path = public_path_for(private_path)
        _ensure_public_half(key, public_path)
        return KeyPair(private_path, public_path, "keys_dir", f"signing with {private_path}")
    private_path, public_path = init_keys(settings_keys_dir)
    return KeyPair(
        private_path,
        public_path,
        "created",
        f"no signing key was configured: created a new Ed25519 key pair at {private_path} (public half "
        f"{public_path}, fingerprint {public_fingerprint(public_path)}); give the public key to the "
        f"authorities that receive packages, and keep the private key out of the repository",
    )


def configured_public_key(settings_keys_dir: Path, *, env: Mapping[str, str] | None = None) -> Path:
    """The public half of the configured key pair, for ``subflag verify``; never creates a key."""
    environ = os.environ if env is None else env
    configured = environ.get(SIGNING_KEY_ENV, "").strip()
    private_path = Path(configured).expanduser() if configured else settings_keys_dir / PRIVATE_KEY_NAME
    public_path = public_path_for(private_path)
    if not public_path.is_file():
        raise SigningKeyError(
            f"no public key at {public_path} (from {SIGNING_KEY_ENV if configured else 'run.paths.signing_keys'}); "
            "pass the sender's public key explicitly"
        )
    return public_path


def _ensure_public_half(key: Ed25519PrivateKey, public_path: Path) -> None:
    """The public half is derivable, so a missing one is rewritten; a mismatching one is an operator error."""
    expected = _public_bytes(key.public_key())
    if not public_path.exists():
        _write(public_path, expected, PUBLIC_FILE_MODE)
    elif fingerprint(load_public_key(public_path)) != fingerprint(key.public_key()):
        raise SigningKeyError(f"public key {public_path} does not belong to the private key beside it")


def sign(manifest_bytes: bytes, private_key_path: Path) -> bytes:
    """Detached signature over the exact bytes (Ed25519 is deterministic: same bytes + key → same signature)."""
    return load_private_key(private_key_path).sign(manifest_bytes)


def verify_signature(data: bytes, signature: bytes, public_key_path: Path) -> bool:
    try:
        load_public_key(public_key_path).verify(signature, data)
    except InvalidSignature:
        return False
    return True
