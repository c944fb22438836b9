import shutil
from pathlib import Path

import pytest

from transforms.config import DEFAULT_CONFIG_DIR, ConfigError, load_config


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, dst)
    return dst


def test_default_config_loads_with_seeded_prefixes(settings):
    table = settings.prefix_table()
    # Can Tho letter (seed 004): the prefixes "with many violations"
    for p in ["081", "082", "083", "084", "085", "088", "094"]:
        assert table[p] == "vinaphone"
    for p in ["032", "033", "034", "035", "036", "037", "038", "039", "086", "097"]:
        assert table[p] == "viettel"
    for p in ["070", "076", "077", "078", "079", "089", "093"]:
        assert table[p] == "mobifone"
    for p in ["052", "056", "058"]:
        assert table[p] == "vietnamobile"
    assert table["087"] == "itel"
    assert settings.run.timezone == "Asia/Ho_Chi_Minh"
    assert settings.numbering.legacy["0168"] == "038"
    assert "5656" in settings.protected.short_codes


def test_digest_changes_with_config_bytes(config_copy: Path):
    a = load_config(config_copy).digest
    p = config_copy / "run.toml"
    p.write_text(p.read_text().replace("feature_days = 7", "feature_days = 8"))
    assert load_config(config_copy).digest != a


def test_error_names_file_key_and_expectation(config_copy: Path):
    p = config_copy / "run.toml"
    p.write_text(p.read_text().replace("feature_days = 7", "feature_days = -3"))
    with pytest.raises(ConfigError) as err:
        load_config(config_copy)
    msg = str(err.value)
    assert str(p) in msg and "windows.feature_days" in msg and "greater than or equal to 1" in msg


def test_duplicate_prefix_is_refused(config_copy: Path):
    p = config_copy / "carriers.toml"
    p.write_text(p.read_text().replace('prefixes = ["087"]', 'prefixes = ["087", "091"]'))
    with pytest.raises(ConfigError, match="prefix 091 is given to both vinaphone and itel"):
        load_config(config_copy)


def test_toml_syntax_error_names_file_and_line(config_copy: Path):
    p = config_copy / "rules.toml"
    p.write_text(p.read_text() + "\n[[rule]\n")
    with pytest.raises(ConfigError, match=r"rules\.toml: TOML syntax error.*line"):
        load_config(config_copy)


def test_unknown_key_is_refused(config_copy: Path):
    p = config_copy / "schedules.toml"
    p.write_text(p.read_text().replace('cron = "0 6 * * *"', 'cron = "0 6 * * *"\ncrn = "x"'))
    with pytest.raises(ConfigError, match=r"daily\.crn: Extra inputs are not permitted"):
        load_config(config_copy)


def test_bad_cron_is_refused(config_copy: Path):
    p = config_copy / "schedules.toml"
    p.write_text(p.read_text().replace('cron = "0 6 * * *"', 'cron = "0 6 * *"'))
    with pytest.raises(ConfigError, match="5-field cron"):
        load_config(config_copy)


def test_legacy_target_must_belong_to_a_carrier(config_copy: Path):
    p = config_copy / "numbering.toml"
    p.write_text(p.read_text().replace('"0199" = "059"', '"0199" = "0599"').replace('"0186" = "056"', '"0186" = "010"'))
    with pytest.raises(ConfigError):
        load_config(config_copy)


@pytest.mark.parametrize(("line", "value", "expected"), [
    ('dask_address = ""', 'dask_address = "10.0.0.5:8786"', "scale_out.dask_address"),
    ('pass_memory_limit = "2GB"', 'pass_memory_limit = "lots"', "scale_out.pass_memory_limit"),
    ('local_workers = 0', 'local_workers = -1', "scale_out.local_workers"),
])
def test_scale_out_settings_are_checked(config_copy: Path, line: str, value: str, expected: str):
    p = config_copy / "run.toml"
    text = p.read_text()
    assert line in text
    p.write_text(text.replace(line, value))
    with pytest.raises(ConfigError, match=expected):
        load_config(config_copy)
