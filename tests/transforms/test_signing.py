import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey

from transforms.signing import (
    SIGNING_KEY_ENV,
    SigningKeyError,
    init_keys,
    load_or_create_keys,
    public_fingerprint,
    public_fingerprint_of_private,
    public_path_for,
    sign,
    verify_signature,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_keys_creates_a_private_pair(tmp_path: Path):
    private, public = init_keys(tmp_path / "keys")
    assert (private.name, public.name) == ("signing_ed25519.pem", "signing_ed25519.pub.pem")
    assert mode(tmp_path / "keys") == 0o700
    assert mode(private) == 0o600
    assert mode(public) == 0o644
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert public_fingerprint(public) == public_fingerprint_of_private(private)
    assert [p.name for p in sorted((tmp_path / "keys").iterdir())] == [private.name, public.name]


def test_init_keys_never_replaces_an_existing_key(tmp_path: Path):
    private, _ = init_keys(tmp_path)
    before = private.read_bytes()
    with pytest.raises(FileExistsError, match="refusing to replace"):
        init_keys(tmp_path)
    assert private.read_bytes() == before
    init_keys(tmp_path, overwrite=True)
    assert private.read_bytes() != before


def test_sign_and_verify_round_trip_and_tamper(tmp_path: Path):
    private, public = init_keys(tmp_path)
    data = '{"request_id": "432/STTTT-TTra"}\n'.encode()
    sig = sign(data, private)
    assert len(sig) == 64
    assert sign(data, private) == sig  # Ed25519 is deterministic
    assert verify_signature(data, sig, public)
    assert not verify_signature(data.replace(b"432", b"433"), sig, public)
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    assert not verify_signature(data, flipped, public)
    _, other_public = init_keys(tmp_path / "other")
    assert not verify_signature(data, sig, other_public)


def test_first_use_creates_a_key_and_says_so_then_reuses_it(tmp_path: Path):
    first = load_or_create_keys(tmp_path / "data" / "keys", env={})
    assert first.created and first.source == "created"
    assert first.private_path == tmp_path / "data" / "keys" / "signing_ed25519.pem"
    assert str(first.private_path) in first.message and "created a new Ed25519 key pair" in first.message
    assert public_fingerprint(first.public_path) in first.message
    again = load_or_create_keys(tmp_path / "data" / "keys", env={})
    assert (again.source, again.private_path, again.created) == ("keys_dir", first.private_path, False)


def test_env_variable_wins_over_the_keys_folder(tmp_path: Path):
    private, _ = init_keys(tmp_path / "hsm-export")
    pair = load_or_create_keys(tmp_path / "keys", env={SIGNING_KEY_ENV: str(private)})
    assert (pair.source, pair.private_path, pair.public_path) == ("env", private, public_path_for(private))
    assert not (tmp_path / "keys").exists()


def test_env_variable_pointing_nowhere_is_an_error(tmp_path: Path):
    with pytest.raises(SigningKeyError, match=f"{SIGNING_KEY_ENV} points to .*missing.pem, which does not exist"):
        load_or_create_keys(tmp_path / "keys", env={SIGNING_KEY_ENV: str(tmp_path / "missing.pem")})


def test_missing_public_half_is_rewritten_and_a_foreign_one_refused(tmp_path: Path):
    private, public = init_keys(tmp_path / "keys")
    public.unlink()
    pair = load_or_create_keys(tmp_path / "keys", env={})
    assert public.exists() and public_fingerprint(public) == public_fingerprint_of_private(private)
    _, foreign = init_keys(tmp_path / "foreign")
    public.write_bytes(foreign.read_bytes())
    with pytest.raises(SigningKeyError, match="does not belong to the private key"):
        load_or_create_keys(tmp_path / "keys", env={})
    assert pair.source == "keys_dir"


def test_a_private_key_readable_by_others_is_refused(tmp_path: Path):
    private, _ = init_keys(tmp_path)
    os.chmod(private, 0o644)
    with pytest.raises(SigningKeyError, match=r"accessible to other users \(mode 0644\); expected 0600"):
        sign(b"x", private)


def test_wrong_key_type_and_garbage_are_refused_with_the_file_named(tmp_path: Path):
    ed448 = tmp_path / "ed448.pem"
    ed448.write_bytes(
        Ed448PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    os.chmod(ed448, 0o600)
    with pytest.raises(SigningKeyError, match=r"ed448.pem: expected an Ed25519 private key"):
        sign(b"x", ed448)
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"hello")
    os.chmod(junk, 0o600)
    with pytest.raises(SigningKeyError, match=r"junk.pem: expected an unencrypted PEM"):
        sign(b"x", junk)
    with pytest.raises(SigningKeyError, match=r"junk.pem: expected a PEM"):
        verify_signature(b"x", b"y" * 64, junk)


def test_configured_public_key_follows_env_then_folder_and_never_creates(tmp_path: Path):
    from transforms.signing import configured_public_key

    with pytest.raises(SigningKeyError, match=r"no public key at .*signing_ed25519.pub.pem \(from run.paths.signing_keys\)"):
        configured_public_key(tmp_path / "keys", env={})
    assert not (tmp_path / "keys").exists()
    _, public = init_keys(tmp_path / "keys")
    assert configured_public_key(tmp_path / "keys", env={}) == public
    env_private, env_public = init_keys(tmp_path / "env")
    assert configured_public_key(tmp_path / "keys", env={SIGNING_KEY_ENV: str(env_private)}) == env_public
