"""Configuration: TOML files under ``config/``, validated once at load by pydantic.

Policy numbers (thresholds, windows, ladders) live in these files, never in code. A bad file is a
startup error that names the file, the key and what was expected, so an operator can fix it without
reading Python.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"

Action = Literal["two_way_block", "one_way_block", "reverify", "monitor"]
ACTIONS_STRONGEST_FIRST: tuple[str, ...] = ("two_way_block", "one_way_block", "reverify", "monitor")

_DIGITS = re.compile(r"^[0-9]+$")
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
NationalPrefix = Annotated[str, Field(pattern=r"^0[1-9][0-9]{1,3}$")]


class ConfigError(ValueError):
    """A configuration file is missing or invalid; the message names file, key and expectation."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Carrier(_Strict):
    slug: str
    name: str
    short_name: str
    prefixes: list[NationalPrefix]
    watched_prefixes: list[NationalPrefix] = []

    @field_validator("slug")
    @classmethod
    def _slug_is_safe(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError("expected a lowercase slug [a-z][a-z0-9_]* (it becomes a folder name)")
        return v

    @model_validator(mode="after")
    def _watched_are_own(self) -> "Carrier":
        stray = sorted(set(self.watched_prefixes) - set(self.prefixes))
        if stray:
            raise ValueError(f"watched_prefixes {stray} are not among this carrier's prefixes")
        return self


class CarriersFile(_Strict):
    carrier: list[Carrier]

    @model_validator(mode="after")
    def _prefixes_unique(self) -> "CarriersFile":
        seen: dict[str, str] = {}
        for c in self.carrier:
            for p in c.prefixes:
                if p in seen:
                    raise ValueError(f"prefix {p} is given to both {seen[p]} and {c.slug}")
                seen[p] = c.slug
        slugs = [c.slug for c in self.carrier]
        if len(set(slugs)) != len(slugs):
            raise ValueError("carrier slugs must be unique")
        return self


class Landline(_Strict):
    area_codes: list[Annotated[str, Field(pattern=r"^2[0-9]{1,2}$")]]
    special_ranges: list[NationalPrefix] = []


class Service(_Strict):
    toll_free_prefix: str = "1800"
    premium_prefix: str = "1900"
    short_code_min_length: int = Field(3, ge=2, le=6)
    short_code_max_length: int = Field(6, ge=3, le=8)


class Numbering(_Strict):
    country_code: str = "84"
    mobile_nsn_length: int = 9
    landline_nsn_length: int = 10
    legacy: dict[Annotated[str, Field(pattern=r"^01[0-9]{2}$")], NationalPrefix]
    landline: Landline
    service: Service = Service()


class ProtectedRange(_Strict):
    prefix: str
    note: str = ""

    @field_validator("prefix")
    @classmethod
    def _digits(cls, v: str) -> str:
        if not _DIGITS.match(v):
            raise ValueError("expected digits in national form, e.g. 069")
        return v


class ProtectedNumber(_Strict):
    number: str
    note: str = ""

    @field_validator("number")
    @classmethod
    def _digits(cls, v: str) -> str:
        if not _DIGITS.match(v):
            raise ValueError("expected digits in national form, e.g. 0692348560")
        return v


class Protected(_Strict):
    short_codes: list[str]
    ranges: list[ProtectedRange] = []
    numbers: list[ProtectedNumber] = []


class Paths(_Strict):
    inbox: Path = Path("data/inbox")
    warehouse: Path = Path("data/warehouse.duckdb")
    lake: Path = Path("data/lake")
    out: Path = Path("data/out")
    keys: Path = Path("data/keys")


class Windows(_Strict):
    feature_days: int = Field(7, ge=1, le=366)
    history_days: int = Field(30, ge=1, le=366)
    hotspot_baseline_days: int = Field(28, ge=1, le=366)


class DuckDBSettings(_Strict):
    threads: int = Field(2, ge=1, le=256)
    memory_limit: str = "4GB"
    temp_directory: Path = Path("data/tmp/duckdb")

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, v: str) -> str:
        if not re.match(r"^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", v):
            raise ValueError("expected a size like '4GB' or '512MiB'")
        return v


class CdrSettings(_Strict):
    buckets: int = Field(8, ge=1, le=1024)
    short_call_seconds: int = Field(10, ge=1)
    short_gap_seconds: int = Field(30, ge=1)
    night_start_hour: int = Field(22, ge=0, le=23)
    night_end_hour: int = Field(6, ge=0, le=23)


class OutputSettings(_Strict):
    dir_mode: str = "0700"
    file_mode: str = "0600"

    @field_validator("dir_mode", "file_mode")
    @classmethod
    def _octal(cls, v: str) -> str:
        if not re.match(r"^0?[0-7]{3}$", v):
            raise ValueError("expected an octal mode like '0700'")
        return v


class RunSettings(_Strict):
    timezone: str = "Asia/Ho_Chi_Minh"
    regulation_profile: str = "decree-49-2017"
    paths: Paths = Paths()
    windows: Windows = Windows()
    duckdb: DuckDBSettings = DuckDBSettings()
    cdr: CdrSettings = CdrSettings()
    output: OutputSettings = OutputSettings()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception as exc:  # noqa: BLE001 - any failure means the name is unusable
            raise ValueError(f"unknown IANA time zone {v!r}") from exc
        return v


class Schedule(_Strict):
    cron: str
    description: str = ""

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, v: str) -> str:
        if len(v.split()) != 5:
            raise ValueError("expected a 5-field cron expression, e.g. '0 6 * * *'")
        return v


class Schedules(_Strict):
    timezone: str = "Asia/Ho_Chi_Minh"
    daily: Schedule
    intake: Schedule
    audit: Schedule


class Condition(_Strict):
    feature: str
    op: Literal[">=", ">", "<=", "<", "=", "!="]
    value: float | int | bool


class Rule(_Strict):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    description: str
    action: Action
    priority: int
    legal_basis: str
    score: float = Field(1.0, ge=0)
    when: list[Condition] = Field(min_length=1)


class DueDays(_Strict):
    """Days from the run date until the action is due (the carrier's service-level policy)."""

    two_way_block: int = Field(ge=0)
    one_way_block: int = Field(ge=0)
    reverify: int = Field(ge=0)
    monitor: int = Field(ge=0)

    def in_action_order(self) -> list[int]:
        return [getattr(self, a) for a in ACTIONS_STRONGEST_FIRST]


class Rules(_Strict):
    due_days: DueDays
    rule: list[Rule]

    @model_validator(mode="after")
    def _ids_unique(self) -> "Rules":
        ids = [r.id for r in self.rule]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"rule ids must be unique; repeated: {dup}")
        return self


class Settings(_Strict):
    """Everything the pipeline reads from ``config/``; built once per process by :func:`load_config`."""

    config_dir: Path
    carriers: list[Carrier]
    numbering: Numbering
    protected: Protected
    run: RunSettings
    schedules: Schedules
    rules: list[Rule]
    due_days: DueDays
    digest: str

    def carrier_slugs(self) -> list[str]:
        return [c.slug for c in self.carriers]

    def prefix_table(self) -> dict[str, str]:
        """National prefix → carrier slug (the ORIGINAL carrier of a number)."""
        return {p: c.slug for c in self.carriers for p in c.prefixes}


_FILES: dict[str, type[BaseModel]] = {
    "carriers.toml": CarriersFile,
    "numbering.toml": Numbering,
    "protected.toml": Protected,
    "run.toml": RunSettings,
    "schedules.toml": Schedules,
    "rules.toml": Rules,
}


def _describe(err: ValidationError, path: Path) -> str:
    lines = [f"invalid configuration in {path}:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  key {key}: {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file, turning syntax errors into :class:`ConfigError` with file and line."""
    if not path.is_file():
        raise ConfigError(f"configuration file {path} is missing")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from exc


def validate_file(path: Path, model: type[BaseModel]) -> BaseModel:
    data = read_toml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from exc


def load_config(config_dir: Path | str | None = None) -> Settings:
    """Load and validate every config file; the digest covers their exact bytes (it feeds run ids)."""
    cdir = Path(config_dir) if config_dir else DEFAULT_CONFIG_DIR
    parsed: dict[str, BaseModel] = {}
    h = hashlib.sha256()
    for name, model in _FILES.items():
        path = cdir / name
        parsed[name] = validate_file(path, model)
        h.update(name.encode())
        h.update(path.read_bytes())
    carriers = parsed["carriers.toml"]
    numbering = parsed["numbering.toml"]
    protected = parsed["protected.toml"]
    assert isinstance(carriers, CarriersFile) and isinstance(numbering, Numbering)
    _check_cross_file(carriers, numbering, cdir)
    return Settings(
        config_dir=cdir,
        carriers=carriers.carrier,
        numbering=numbering,
        protected=protected,  # type: ignore[arg-type]
        run=parsed["run.toml"],  # type: ignore[arg-type]
        schedules=parsed["schedules.toml"],  # type: ignore[arg-type]
        rules=parsed["rules.toml"].rule,  # type: ignore[attr-defined]
        due_days=parsed["rules.toml"].due_days,  # type: ignore[attr-defined]
        digest=h.hexdigest(),
    )


def _check_cross_file(carriers: CarriersFile, numbering: Numbering, cdir: Path) -> None:
    owned = {p for c in carriers.carrier for p in c.prefixes}
    for old, new in numbering.legacy.items():
        if not any(new.startswith(p) or p.startswith(new) for p in owned):
            raise ConfigError(
                f"invalid configuration in {cdir / 'numbering.toml'}:\n"
                f"  key legacy.{old}: converts to {new}, which no carrier in carriers.toml owns"
            )


def settings_fingerprint(settings: Settings) -> str:
    """A stable JSON rendering of the effective settings, for lineage records."""
    return json.dumps(settings.model_dump(mode="json", exclude={"config_dir"}), sort_keys=True, ensure_ascii=False)
