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
import unicodedata
from datetime import date
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
    # Total digits of a 1800/1900 number (1800xxxx, 1800xxxxxx).
    number_lengths: list[Annotated[int, Field(ge=5, le=11)]] = [8, 10]


class Numbering(_Strict):
    country_code: str = "84"
    mobile_nsn_length: int = Field(9, ge=5, le=11)
    landline_nsn_length: int = Field(10, ge=5, le=11)
    # An old mobile number is this many digits after the trunk 0 (11-digit national form); the digits after
    # its 3-digit old prefix are kept when converting.
    legacy_nsn_length: int = Field(10, ge=5, le=11)
    # Digits of an international number after "+" (country code included): E.164 allows at most 15.
    international_min_digits: int = Field(7, ge=3, le=15)
    international_max_digits: int = Field(15, ge=3, le=15)
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
    signing_keys: Path = Path("data/keys")
    pseudonym_key: Path = Path("data/keys/pseudonym.key")  # HMAC key file; env SUBFLAG_PSEUDONYM_KEY wins


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
    # "Max calls in any sliding window" uses a window of this many minutes (Circular 22: call frequency).
    burst_window_minutes: int = Field(60, ge=1, le=1440)
    # Corroboration: the reported number must have called/messaged the reporter within this many minutes
    # either side of occurred_at, or, without occurred_at, within this many hours before received_at.
    corroboration_minutes: int = Field(60, ge=1, le=1440)
    corroboration_lookback_hours: int = Field(72, ge=1, le=24 * 31)
    # Streaming ingest: rows per batch held in memory; Parquet row group size in the lake.
    ingest_batch_rows: int = Field(1_000_000, ge=1_000, le=50_000_000)
    row_group_rows: int = Field(262_144, ge=1_024, le=10_000_000)
    # Vendor column names per carrier: {carrier slug: {vendor column: canonical column}} (case-insensitive).
    columns: dict[str, dict[str, str]] = {}

    @field_validator("columns")
    @classmethod
    def _canonical_targets(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        canonical = {"record_id", "a_number", "b_number", "start_time", "duration_s", "event_type", "cell_id", "imei"}
        for carrier, mapping in v.items():
            if not _SLUG.match(carrier):
                raise ValueError(f"columns.{carrier}: expected a carrier slug")
            bad = sorted(set(mapping.values()) - canonical)
            if bad:
                raise ValueError(f"columns.{carrier}: {bad} are not CDR columns; expected one of {sorted(canonical)}")
        return v


class HotspotSettings(_Strict):
    # A prefix is a hot-spot when its complaints in the feature window reach min_reports AND are at least
    # min_ratio times the trailing baseline's rate (scaled to the window length).
    min_reports: int = Field(3, ge=1)
    min_ratio: float = Field(2.0, gt=0)


class OutputSettings(_Strict):
    dir_mode: str = "0700"
    file_mode: str = "0600"

    @field_validator("dir_mode", "file_mode")
    @classmethod
    def _octal(cls, v: str) -> str:
        if not re.match(r"^0?[0-7]{3}$", v):
            raise ValueError("expected an octal mode like '0700'")
        return v


class ScaleOutSettings(_Strict):
    """Where the feature stage's bucket passes run. Empty address and 0 workers: in-process (default)."""

    dask_address: str = ""            # tcp://scheduler:8786: an existing Dask cluster
    local_workers: int = Field(0, ge=0, le=256)  # > 0: start a LocalCluster of this many workers
    worker_memory: str = "4GB"        # memory per LocalCluster worker
    pass_threads: int = Field(1, ge=1, le=256)    # DuckDB threads of one bucket pass on a worker
    pass_memory_limit: str = "2GB"    # DuckDB memory_limit of one bucket pass on a worker (it spills beyond)

    @field_validator("worker_memory", "pass_memory_limit")
    @classmethod
    def _size(cls, v: str) -> str:
        return DuckDBSettings._size(v)

    @field_validator("dask_address")
    @classmethod
    def _address(cls, v: str) -> str:
        if v and not re.match(r"^(tcp|tls|ucx|inproc)://\S+$", v):
            raise ValueError("expected a Dask scheduler address like 'tcp://10.0.0.5:8786'")
        return v


class RunSettings(_Strict):
    timezone: str = "Asia/Ho_Chi_Minh"
    regulation_profile: str = "decree-49-2017"
    paths: Paths = Paths()
    windows: Windows = Windows()
    duckdb: DuckDBSettings = DuckDBSettings()
    cdr: CdrSettings = CdrSettings()
    hotspots: HotspotSettings = HotspotSettings()
    output: OutputSettings = OutputSettings()
    scale_out: ScaleOutSettings = ScaleOutSettings()

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


class Exclusions(_Strict):
    """Exclusions beat rules; the cooldown and the allowlist are the carrier's policy."""

    cooldown_days: int = Field(30, ge=0, le=3650)
    allowlist: Path | None = None  # CSV with an msisdn column; relative paths are relative to config/


class Rules(_Strict):
    due_days: DueDays
    exclusions: Exclusions = Exclusions()
    rule: list[Rule]

    @model_validator(mode="after")
    def _ids_unique(self) -> "Rules":
        ids = [r.id for r in self.rule]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"rule ids must be unique; repeated: {dup}")
        return self


CategoryName = Literal["impersonation", "fraud", "spam_call", "spam_sms", "harassment", "other"]


def fold_label(text: str) -> str:
    """Case-, diacritic- and separator-insensitive key, so "Lừa đảo", "lua dao" and "LUA_DAO" meet."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


class ContentPolicy(_Strict):
    max_chars: int = Field(1000, ge=100, le=100_000)


class Category(_Strict):
    name: CategoryName
    synonyms: list[str] = []
    keywords: list[str] = []
    kinds: list[Literal["call", "sms"]] = ["call", "sms"]

    @field_validator("synonyms", "keywords")
    @classmethod
    def _foldable(cls, v: list[str]) -> list[str]:
        empty = [s for s in v if not fold_label(s)]
        if empty:
            raise ValueError(f"entries {empty} have no letters or digits")
        return v


class Categories(_Strict):
    content: ContentPolicy = ContentPolicy()
    category: list[Category]

    @model_validator(mode="after")
    def _consistent(self) -> "Categories":
        names = [c.name for c in self.category]
        if len(set(names)) != len(names):
            raise ValueError("category names must be unique")
        if "other" not in names:
            raise ValueError("a category named 'other' is required (the default)")
        seen: dict[str, str] = {}
        for c in self.category:
            for s in [c.name, *c.synonyms]:
                key = fold_label(s)
                if seen.get(key, c.name) != c.name:
                    raise ValueError(f"synonym {s!r} is given to both {seen[key]} and {c.name}")
                seen[key] = c.name
        return self


SubscriberField = Literal["full_name", "date_of_birth", "id_type", "id_number", "id_issued_on", "id_issued_place", "photo_ref"]
RegistrationPoint = Literal["own_store", "agent", "online", "ekyc"]
RegistryCheckId = Literal[
    "REG_FIELDS_MISSING", "REG_KYC_UNVERIFIED", "REG_EXTRA_NUMBER_POINT",
    "REG_ID_EXPIRED", "REG_ID_IMPLAUSIBLE", "REG_ID_NAME_CONFLICT",
]


class IdDocument(_Strict):
    """One kind of identity document: what its number looks like and when it stops being valid."""

    type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    aliases: list[str] = []
    pattern: str
    valid_years: int | None = Field(None, ge=1, le=100)
    renew_at_ages: list[Annotated[int, Field(ge=1, le=150)]] = []
    renew_grace_years: int = Field(0, ge=0, le=10)
    valid_until: date | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return v


class LadderStep(_Strict):
    action: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    after_days: int = Field(ge=0, le=3660)
    legal_basis: str
    description: str = ""


class RegistryCheck(_Strict):
    id: RegistryCheckId
    legal_basis: str
    description: str = ""


class RegulationProfile(_Strict):
    """A rulebook as data: required subscriber fields, the checks and their legal basis, the enforcement ladder."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,63}$")
    title: str
    legal_basis: str
    required_fields: list[SubscriberField] = Field(min_length=1)
    min_age_years: int = Field(14, ge=0, le=30)
    max_age_years: int = Field(120, ge=50, le=150)
    numbers_per_id_anywhere: int = Field(3, ge=1, le=100)
    extra_numbers_points: list[RegistrationPoint] = Field(min_length=1)
    notice_min_days: int = Field(ge=0, le=365)
    new_device_suspend_hours: float | None = Field(None, gt=0)
    id_document: list[IdDocument] = Field(min_length=1)
    check: list[RegistryCheck] = Field(min_length=1)
    step: list[LadderStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "RegulationProfile":
        names = [n.lower() for d in self.id_document for n in [d.type, *d.aliases]]
        for label, values in (
            ("id_document type/alias", names),
            ("check id", [c.id for c in self.check]),
            ("step action", [s.action for s in self.step]),
        ):
            dup = sorted({v for v in values if values.count(v) > 1})
            if dup:
                raise ValueError(f"{label} must be unique; repeated: {dup}")
        return self

    def step_offsets(self) -> list[int]:
        """Days from the first flag to each step (the TOML gives days after the previous step)."""
        out, total = [], 0
        for s in self.step:
            total += s.after_days
            out.append(total)
        return out


class ProfilesFile(_Strict):
    profile: list[RegulationProfile] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_unique(self) -> "ProfilesFile":
        names = [p.name for p in self.profile]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"profile names must be unique; repeated: {dup}")
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
    exclusions: Exclusions
    categories: Categories
    profiles: list[RegulationProfile]
    profile: RegulationProfile  # the active one, named by run.toml regulation_profile
    digest: str

    def carrier_slugs(self) -> list[str]:
        return [c.slug for c in self.carriers]

    def allowlist_file(self) -> Path | None:
        path = self.exclusions.allowlist
        if path is None:
            return None
        return path if path.is_absolute() else self.config_dir / path

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
    "categories.toml": Categories,
    "profiles.toml": ProfilesFile,
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
        categories=parsed["categories.toml"],  # type: ignore[arg-type]
        due_days=parsed["rules.toml"].due_days,  # type: ignore[attr-defined]
        exclusions=parsed["rules.toml"].exclusions,  # type: ignore[attr-defined]
        profiles=parsed["profiles.toml"].profile,  # type: ignore[attr-defined]
        profile=_active_profile(parsed["profiles.toml"], parsed["run.toml"], cdir),  # type: ignore[arg-type]
        digest=h.hexdigest(),
    )


def _active_profile(profiles: ProfilesFile, run: RunSettings, cdir: Path) -> RegulationProfile:
    by_name = {p.name: p for p in profiles.profile}
    if run.regulation_profile not in by_name:
        raise ConfigError(
            f"invalid configuration in {cdir / 'run.toml'}:\n"
            f"  key regulation_profile: {run.regulation_profile!r} is not a profile in profiles.toml; "
            f"expected one of {sorted(by_name)}"
        )
    return by_name[run.regulation_profile]


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
