from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from transforms.config import PROJECT_ROOT
from transforms.pseudonym import KEY_ENV, PseudonymKey, PseudonymKeyError, id_document_key, load_key
from transforms.warehouse import connect, run_model

EXAMPLES = int(os.environ.get("SUBFLAG_FUZZ_EXAMPLES", "300"))


def test_environment_key_wins_over_the_file(tmp_path):
    key_file = tmp_path / "k.key"
    key_file.write_text("11" * 32)
    key = load_key(key_file, env={KEY_ENV: "22" * 32})
    assert key.key == bytes.fromhex("22" * 32) and key.source == f"env {KEY_ENV}" and not key.created


def test_key_file_is_read_when_no_environment_key(tmp_path):
    key_file = tmp_path / "k.key"
    key_file.write_text("33" * 40 + "\n")
    key_file.chmod(0o600)
    key = load_key(key_file, env={})
    assert key.key == bytes.fromhex("33" * 40) and key.source == f"file {key_file}"


def test_missing_key_creates_a_private_random_file_and_says_so(tmp_path, caplog):
    key_file = tmp_path / "keys" / "pseudonym.key"
    with caplog.at_level(logging.WARNING, logger="subflag.pseudonym"):
        first = load_key(key_file, env={})
    assert first.created and first.source == f"new file {key_file}"
    assert len(first.key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "created a new random key there (mode 0600)" in caplog.text and str(key_file) in caplog.text
    again = load_key(key_file, env={})
    assert again.key == first.key and not again.created
    other = load_key(tmp_path / "elsewhere.key", env={})
    assert other.key != first.key


def test_no_key_and_no_creation_is_an_error(tmp_path):
    with pytest.raises(PseudonymKeyError, match=f"{KEY_ENV} is not set and .* does not exist"):
        load_key(tmp_path / "absent.key", env={}, create=False)


@pytest.mark.parametrize(
    ("value", "message"),
    [("not-hex-at-all", "expected the key as hexadecimal digits"), ("ab" * 16 + "a", "hexadecimal"), ("ab" * 16, "16 bytes; expected at least 32")],
)
def test_bad_environment_keys_are_refused(tmp_path, value, message):
    with pytest.raises(PseudonymKeyError, match=message) as err:
        load_key(tmp_path / "k.key", env={KEY_ENV: value})
    assert f"environment variable {KEY_ENV}" in str(err.value)


def test_a_key_is_never_created_inside_the_repository():
    target = PROJECT_ROOT / "config" / "pseudonym-test.key"
    with pytest.raises(PseudonymKeyError, match="refusing to create a pseudonym key inside the repository"):
        load_key(target, env={})
    assert not target.exists()


def test_group_readable_key_file_is_warned_about(tmp_path, caplog):
    key_file = tmp_path / "k.key"
    key_file.write_text("44" * 32)
    key_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="subflag.pseudonym"):
        load_key(key_file, env={})
    assert "readable by other users (mode 644)" in caplog.text


def test_pseudonym_is_a_keyed_hmac_never_a_plain_hash():
    key = PseudonymKey(bytes.fromhex("5e" * 32), "test")
    expected = hmac.new(key.key, b"079185000001", hashlib.sha256).hexdigest()
    assert key.pseudonym("079 185 000 001") == expected
    assert key.pseudonym("079185000001") != hashlib.sha256(b"079185000001").hexdigest()
    assert PseudonymKey(bytes.fromhex("5f" * 32), "other").pseudonym("079185000001") != expected
    assert key.pseudonym(" - ") is None
    assert id_document_key("c 1234567") == "C1234567"


@pytest.fixture(scope="module")
def con():
    con = connect(":memory:")
    run_model(con, "schema/030_registry")
    return con


def _sql_pseudonyms(con, key: PseudonymKey, ids: list[str]) -> list[str | None]:
    """Through the production SQL (sql/registry/rekey.sql), which recomputes every stored person_ref."""
    con.execute("DELETE FROM registry_subscribers")
    con.executemany(
        "INSERT INTO registry_subscribers (carrier, msisdn_int, msisdn, msisdn_national, valid_from, subscriber_id, "
        "activated_on, plan, status, id_number, registration_point, kyc_verified, malformed_fields, source_file, "
        "source_sha256, run_id) VALUES ('viettel', $n, 'x', 'x', DATE '2024-03-01', 's', DATE '2024-01-01', 'prepaid', "
        "'active', $id, 'agent', true, [], 'f', 'h', 'r')",
        [{"n": i, "id": v} for i, v in enumerate(ids)],
    )
    run_model(con, "registry/rekey", {**key.sql_params(), "fingerprint": "fp"})
    return [r[0] for r in con.execute("SELECT person_ref FROM registry_subscribers ORDER BY msisdn_int").fetchall()]


@pytest.mark.parametrize("key_len", [32, 64, 100])
def test_sql_hmac_matches_python_for_every_key_length(con, key_len):
    key = PseudonymKey(bytes(range(key_len)), "test")
    ids = ["079185000001", "c1234567", "Nguyễn-123", "381 234 567"]
    assert _sql_pseudonyms(con, key, ids) == [key.pseudonym(v) for v in ids]


@pytest.mark.fuzz
@hsettings(max_examples=EXAMPLES, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=80),
    ids=st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20), min_size=1, max_size=8),
)
def test_sql_hmac_equals_python_hmac_on_random_ids(con, key, ids):
    k = PseudonymKey(key, "test")
    assert _sql_pseudonyms(con, k, ids) == [k.pseudonym(v) for v in ids]


def test_key_for_uses_the_configured_path(settings, monkeypatch, tmp_path):
    from transforms.pseudonym import key_for

    monkeypatch.delenv(KEY_ENV, raising=False)
    key_file = tmp_path / "cfg.key"
    key_file.write_text("66" * 32)
    key_file.chmod(0o600)
    local = settings.model_copy(update={"run": settings.run.model_copy(update={"paths": settings.run.paths.model_copy(update={"pseudonym_key": key_file})})})
    assert key_for(local).key == bytes.fromhex("66" * 32)
    assert settings.run.paths.pseudonym_key == Path("data/keys/pseudonym.key")
