"""Helpers for the flow tests: a private copy of config/ whose schedules a test can rewrite."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from transforms.config import DEFAULT_CONFIG_DIR


def copy_config(dest: Path) -> Path:
    shutil.copytree(DEFAULT_CONFIG_DIR, dest)
    return dest


def set_schedule(config_dir: Path, section: str, cron: str) -> None:
    """Replace the ``cron`` of one ``[section]`` of schedules.toml, failing loudly if it is not there."""
    path = config_dir / "schedules.toml"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf'(^\[{re.escape(section)}\]\s*\ncron\s*=\s*)"[^"]*"', re.MULTILINE)
    new, n = pattern.subn(rf'\g<1>"{cron}"', text)
    assert n == 1, f"no [{section}] cron line in {path}"
    path.write_text(new, encoding="utf-8")


def set_timezone(config_dir: Path, tz: str) -> None:
    path = config_dir / "schedules.toml"
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r'^timezone\s*=\s*"[^"]*"', f'timezone = "{tz}"', text, flags=re.MULTILINE)
    assert n == 1, f"no top-level timezone in {path}"
    path.write_text(new, encoding="utf-8")
