"""Regulation profiles are data: switching the profile in config changes due_by, with no code change."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.transforms.test_registry import (  # noqa: F401 - fixtures and builders shared with the lander tests
    _pseudonym_key,
    con,
    ctx,
    land,
    rows,
    subscriber,
    write_snapshot,
)
from transforms.config import DEFAULT_CONFIG_DIR, ConfigError, Settings, load_config
from transforms.registry import run_subscriber_checks

D = date(2024, 3, 1)
UNVERIFIED = "0961000006"


def _config_with(tmp_path: Path, profile: str) -> Settings:
    cdir = tmp_path / f"config-{profile}"
    shutil.copytree(DEFAULT_CONFIG_DIR, cdir)
    run = cdir / "run.toml"
    text = run.read_text(encoding="utf-8")
    assert 'regulation_profile = "decree-49-2017"' in text
    run.write_text(text.replace('regulation_profile = "decree-49-2017"', f'regulation_profile = "{profile}"'), encoding="utf-8")
    return load_config(cdir)


def _flagged_registry(con, ctx, tmp_path) -> None:
    land(con, ctx, write_snapshot(tmp_path, "viettel", "20240301", [subscriber("0961000001"),
                                                                     subscriber(UNVERIFIED, kyc_verified="false")]))


def _due(con, run_date: date) -> list[tuple]:
    return rows(
        con,
        "SELECT msisdn, profile, check_ids, first_flagged_on, current_step, next_step, due_by, overdue, legal_basis "
        "FROM v_reverify WHERE run_date = $d",
        {"d": run_date},
    )


def test_switching_the_profile_changes_due_by(con, ctx, tmp_path):
    _flagged_registry(con, ctx, tmp_path)
    old = _config_with(tmp_path, "decree-49-2017")
    new = _config_with(tmp_path, "decree-163-2024")
    assert old.profile.name == "decree-49-2017" and new.profile.name == "decree-163-2024"

    run_subscriber_checks(con, old, D, "run-49")
    (row49,) = _due(con, D)
    assert row49[:8] == ("+84961000006", "decree-49-2017", "REG_KYC_UNVERIFIED", D, "notice", "one_way_block",
                         D + timedelta(days=15), False)
    assert row49[8] == old.profile.step[1].legal_basis and "49/2017" in row49[8]

    run_subscriber_checks(con, new, D, "run-163")
    (row163,) = _due(con, D)
    assert row163[:8] == ("+84961000006", "decree-163-2024", "REG_KYC_UNVERIFIED", D, "notice", "one_way_block",
                          D + timedelta(days=5), False)
    assert row163[8] == new.profile.step[1].legal_basis and "163/2024" in row163[8]


@pytest.mark.parametrize(
    ("profile", "ladder"),
    [
        ("decree-49-2017", [(0, "notice", "one_way_block", 15), (15, "one_way_block", "two_way_block", 30),
                            (30, "two_way_block", "terminate", 60), (60, "terminate", "terminate", 60)]),
        ("decree-163-2024", [(0, "notice", "one_way_block", 5), (4, "notice", "one_way_block", 5), (5, "one_way_block", "two_way_block", 65),
                             (65, "two_way_block", "revoke", 70), (70, "revoke", "revoke", 70)]),
    ],
)
def test_the_ladder_counts_from_the_first_flag_kept_across_runs(con, ctx, tmp_path, profile, ladder):
    _flagged_registry(con, ctx, tmp_path)
    settings = _config_with(tmp_path, profile)
    for days, current, nxt, due_offset in ladder:
        run_date = D + timedelta(days=days)
        run_subscriber_checks(con, settings, run_date, f"run-{days}")
        (row,) = _due(con, run_date)
        assert row[3:8] == (D, current, nxt, D + timedelta(days=due_offset), days >= ladder[-1][0]), days
    assert rows(con, "SELECT first_flagged_on, first_run_id FROM reverify_flags") == [(D, "run-0")]


def test_a_fixed_subscriber_flagged_again_starts_a_new_episode(con, ctx, tmp_path, settings):
    _flagged_registry(con, ctx, tmp_path)
    run_subscriber_checks(con, settings, D, "run-1")
    land(con, ctx, write_snapshot(tmp_path / "b", "viettel", "20240302", [subscriber(UNVERIFIED)]))
    assert run_subscriber_checks(con, settings, date(2024, 3, 2), "run-2")["REG_KYC_UNVERIFIED"] == 0
    land(con, ctx, write_snapshot(tmp_path / "c", "viettel", "20240303", [subscriber(UNVERIFIED, kyc_verified="false")]))
    run_subscriber_checks(con, settings, date(2024, 3, 3), "run-3")
    (row,) = _due(con, date(2024, 3, 3))
    assert row[3] == date(2024, 3, 3) and row[6] == date(2024, 3, 18)
    # re-running the first date does not move the current episode, and keeps its own ladder position
    run_subscriber_checks(con, settings, D, "run-1")
    assert rows(con, "SELECT first_flagged_on, last_flagged_on FROM reverify_flags") == [(date(2024, 3, 3), date(2024, 3, 3))]
    (old,) = _due(con, D)
    assert old[3] == D and old[6] == date(2024, 3, 16)


def test_a_continuing_episode_survives_reruns_and_skipped_days(con, ctx, tmp_path, settings):
    _flagged_registry(con, ctx, tmp_path)
    for day in (D, D + timedelta(days=3), D + timedelta(days=3), D + timedelta(days=10)):
        run_subscriber_checks(con, settings, day, f"run-{day}")
    assert rows(con, "SELECT first_flagged_on, last_flagged_on FROM reverify_flags") == [(D, D + timedelta(days=10))]
    assert rows(con, "SELECT count(*) FROM reverify_due WHERE run_date = $d", {"d": D + timedelta(days=3)}) == [(1,)]


def test_required_fields_come_from_the_profile(con, ctx, tmp_path):
    land(con, ctx, write_snapshot(tmp_path, "viettel", "20240301", [subscriber("0961000001", photo_ref=None)]))
    strict = _config_with(tmp_path, "decree-49-2017")
    assert run_subscriber_checks(con, strict, D, "r")["REG_FIELDS_MISSING"] == 1
    cdir = tmp_path / "config-lenient"
    shutil.copytree(strict.config_dir, cdir)
    profiles = cdir / "profiles.toml"
    text = profiles.read_text(encoding="utf-8")
    full = '"id_issued_on", "id_issued_place", "photo_ref"]'
    assert text.count(full) == 2
    profiles.write_text(text.replace(full, '"id_issued_on", "id_issued_place"]', 1), encoding="utf-8")
    assert run_subscriber_checks(con, load_config(cdir), D, "r")["REG_FIELDS_MISSING"] == 0


def test_an_unknown_profile_name_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"regulation_profile: 'decree-1-1990' is not a profile in profiles.toml; "
                                          r"expected one of \['decree-163-2024', 'decree-49-2017'\]"):
        _config_with(tmp_path, "decree-1-1990")


def test_profile_file_errors_name_the_key(tmp_path):
    cdir = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, cdir)
    p = cdir / "profiles.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('id = "REG_KYC_UNVERIFIED"', 'id = "REG_SHOE_SIZE"', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"(?s)profiles\.toml.*key profile\.0\.check\.1\.id"):
        load_config(cdir)


def test_both_profiles_encode_the_published_ladders(settings):
    by_name = {p.name: p for p in settings.profiles}
    d49, d163 = by_name["decree-49-2017"], by_name["decree-163-2024"]
    assert [(s.action, o) for s, o in zip(d49.step, d49.step_offsets())] == [
        ("notice", 0), ("one_way_block", 15), ("two_way_block", 30), ("terminate", 60)]
    assert [(s.action, o) for s, o in zip(d163.step, d163.step_offsets())] == [
        ("notice", 0), ("one_way_block", 5), ("two_way_block", 65), ("revoke", 70)]
    assert d49.notice_min_days == 5 and d163.new_device_suspend_hours == 2 and d49.new_device_suspend_hours is None
    assert settings.profile.name == "decree-49-2017"
