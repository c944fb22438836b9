"""The subscriber registry: snapshot and port landers, and the subscriber-information checks driver.

A registry snapshot is personal data. Its rows land once, in ``registry_subscribers`` (versioned, so a
daily full snapshot of an unchanged registry adds nothing and "status on day D" stays answerable); every
other table, view and reject row refers to people only by number or by a keyed pseudonym. Which fields a
subscriber must have, which checks run with which legal basis, and the enforcement ladder come from the
active regulation profile (``config/profiles.toml``), so a new rulebook is a config change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from transforms.config import RegulationProfile, Settings
from transforms.faults import kill_point
from transforms.ingest import Delivery, IngestContext, Landed, Lander, insert_frame, insert_rejects
from transforms.numbers import normalise_numbers
from transforms.pseudonym import PseudonymKey, key_for
from transforms.readers import InputError, read_records, reject_rows, render_raw
from transforms.timestamps import parse_timestamps
from transforms.warehouse import query_model, run_model

SUBSCRIBER_REQUIRED = [
    "msisdn", "subscriber_id", "activated_on", "plan", "status", "full_name", "date_of_birth",
    "id_type", "id_number", "registration_point", "kyc_verified",
]
SUBSCRIBER_OPTIONAL = ["id_issued_on", "id_issued_place", "photo_ref", "guardian_flag"]
PORTED_REQUIRED = ["msisdn", "carrier", "ported_at"]

PLANS = ("prepaid", "postpaid")
STATUSES = ("active", "one_way_blocked", "two_way_blocked", "terminated")
REGISTRATION_POINTS = ("own_store", "agent", "online", "ekyc")
_TRUE = ("true", "t", "1", "yes", "y", "có", "co")
_FALSE = ("false", "f", "0", "no", "n", "không", "khong")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d")
_FOUR_DIGIT_YEAR = r"^(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{8})$"  # '03/05/24' is not guessed

# Reject reason codes added by these landers (the reader's own codes are in transforms.readers).
REGISTRY_REJECT_REASONS: dict[str, str] = {
    "invalid_number": "the msisdn is not a Vietnamese mobile number",
    "missing_value": "a required column is empty on this row",
    "bad_date": "a date column is not a date in an accepted form",
    "bad_value": "a column holds a value outside its allowed set",
    "duplicate_id": "the number already appeared earlier in the same snapshot",
    "unknown_carrier": "the carrier is not one of the configured carriers",
    "bad_timestamp": "a timestamp column is empty or not in an accepted form",
}
WITHHELD_RAW = "[withheld: subscriber registry rows hold personal data; see the source file at this line]"

CHECK_MODELS: dict[str, str] = {
    "REG_FIELDS_MISSING": "registry/check_fields_missing",
    "REG_KYC_UNVERIFIED": "registry/check_kyc_unverified",
    "REG_EXTRA_NUMBER_POINT": "registry/check_extra_number_point",
    "REG_ID_EXPIRED": "registry/check_id_expired",
    "REG_ID_IMPLAUSIBLE": "registry/check_id_implausible",
    "REG_ID_NAME_CONFLICT": "registry/check_id_name_conflict",
}

_SNAPSHOT_DATE = re.compile(r"_(\d{8})(?:\.[A-Za-z0-9]+)+$")


# --------------------------------------------------------------------------------------------- parsing


def snapshot_date_from_name(path: Path) -> date:
    """A full snapshot's day is in its name (``subscribers_viettel_20240305.csv``): rows carry no date."""
    m = _SNAPSHOT_DATE.search(path.name)
    expected = "expected the file name to end in _YYYYMMDD before the extension (e.g. subscribers_viettel_20240305.csv)"
    if not m:
        raise InputError(path, f"cannot tell the snapshot date: {expected}")
    try:
        return datetime.strptime(m.group(1), "%Y%m%d").date()
    except ValueError:
        raise InputError(path, f"snapshot date {m.group(1)!r} in the file name is not a calendar date; {expected}") from None


def parse_dates(values: pl.Series) -> pl.Series:
    """Calendar dates, year-first or Vietnamese day-first; a time part is ignored; null when unreadable.

    Registries are exported by one system each, so nearly every value has the ISO form: that is one cheap
    parse, and only the values it misses try the other forms.
    """
    text = values.str.strip_chars()
    fast = pl.select(
        pl.when(text.str.len_bytes() == 10).then(text.str.strptime(pl.Date, _DATE_FORMATS[0], strict=False))
    ).to_series()
    missed = fast.is_null() & text.is_not_null()
    if not missed.any():
        return fast.alias(values.name)
    day = pl.col("t").str.split_exact("T", 1).struct.field("field_0").str.split_exact(" ", 1).struct.field("field_0")
    slow = pl.DataFrame({"t": text.filter(missed)}).select(
        pl.when(day.str.contains(_FOUR_DIGIT_YEAR))
        .then(pl.coalesce([day.str.strptime(pl.Date, f, strict=False) for f in _DATE_FORMATS]))
    ).to_series()
    return fast.scatter(missed.arg_true(), slow).alias(values.name)


def _token(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def _parse_bool(col: str) -> pl.Expr:
    t = pl.col(col).str.strip_chars().str.to_lowercase()
    return pl.when(t.is_in(_TRUE)).then(True).when(t.is_in(_FALSE)).then(False).otherwise(None)


def _first_failure(rules: list[tuple[pl.Expr, str, str]]) -> tuple[pl.Expr, pl.Expr]:
    """(reason, detail) of the first rule whose condition holds; null when none does."""
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    detail: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, code, text in reversed(rules):
        reason = pl.when(cond).then(pl.lit(code)).otherwise(reason)
        detail = pl.when(cond).then(pl.lit(text)).otherwise(detail)
    return reason, detail


def parse_subscribers(records: pl.DataFrame, ctx: IngestContext) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Accepted registry rows (typed), rejects row for row, and the valid numbers of rejected rows.

    Only rows that cannot be keyed or typed are rejected (number, subscriber id, activation date, plan,
    status, registration point, KYC flag). Missing or unreadable personal fields are NOT rejects: they are
    exactly what the subscriber-information checks must find, so the row lands with them null and the
    unreadable ones listed in ``malformed_fields``. A rejected row whose number is readable (and not also
    accepted) says the number is still in the registry in an unknown state: ``held`` lists those numbers
    so the snapshot keeps their previous record instead of recording that they left.
    """
    f = normalise_numbers(records, "msisdn", ctx.tables, prefix="n_").with_columns(
        parse_dates(records["activated_on"]).alias("activated_d"),
        parse_dates(records["date_of_birth"]).alias("dob_d"),
        parse_dates(records["id_issued_on"]).alias("issued_d"),
        _token("plan").alias("plan_t"),
        _token("status").alias("status_t"),
        _token("registration_point").alias("point_t"),
        _parse_bool("kyc_verified").alias("kyc_b"),
        _parse_bool("guardian_flag").alias("guardian_b"),
    )
    valid = pl.col("n_kind") == "mobile"
    rules: list[tuple[pl.Expr, str, str]] = [
        (~valid, "invalid_number", "column msisdn: expected a Vietnamese mobile number"),
        *(
            (pl.col(c).is_null(), "missing_value", f"column {c}: a value is required")
            for c in ("subscriber_id", "activated_on", "plan", "status", "registration_point", "kyc_verified")
        ),
        (pl.col("activated_d").is_null(), "bad_date", "column activated_on: expected a date like 2024-03-05 or 05/03/2024"),
        (~pl.col("plan_t").is_in(PLANS), "bad_value", f"column plan: expected one of {', '.join(PLANS)}"),
        (~pl.col("status_t").is_in(STATUSES), "bad_value", f"column status: expected one of {', '.join(STATUSES)}"),
        (~pl.col("point_t").is_in(REGISTRATION_POINTS), "bad_value",
         f"column registration_point: expected one of {', '.join(REGISTRATION_POINTS)}"),
        (pl.col("kyc_b").is_null(), "bad_value", "column kyc_verified: expected true or false"),
    ]
    reason, detail = _first_failure(rules)
    f = f.with_columns(reason.alias("reason"), detail.alias("detail"))
    dup = pl.col("reason").is_null() & ~pl.col("n_e164_int").is_first_distinct().over(pl.col("reason").is_null())
    f = f.with_columns(
        pl.when(dup).then(pl.lit("duplicate_id")).otherwise("reason").alias("reason"),
        pl.when(dup).then(pl.lit("column msisdn: the number already appeared earlier in this snapshot"))
        .otherwise("detail").alias("detail"),
    )

    def text(col: str) -> pl.Expr:
        return pl.col(col).str.normalize("NFC").str.strip_chars().str.replace_all(r"\s+", " ")

    malformed = pl.concat_list(
        pl.when(pl.col(c).is_not_null() & pl.col(d).is_null()).then(pl.lit(c)).otherwise(None)
        for c, d in (("date_of_birth", "dob_d"), ("id_issued_on", "issued_d"))
    ).list.drop_nulls()
    accepted = f.filter(pl.col("reason").is_null()).select(
        pl.col("n_e164_int").alias("msisdn_int"),
        pl.col("n_e164").cast(pl.String).alias("msisdn"),
        pl.col("n_national").cast(pl.String).alias("msisdn_national"),
        pl.col("n_carrier").cast(pl.String).alias("prefix_carrier"),
        pl.col("subscriber_id").str.strip_chars(),
        pl.col("activated_d").alias("activated_on"),
        pl.col("plan_t").alias("plan"),
        pl.col("status_t").alias("status"),
        text("full_name").alias("full_name"),
        pl.col("dob_d").alias("date_of_birth"),
        _token("id_type").alias("id_type"),
        pl.col("id_number").str.strip_chars().alias("id_number"),
        pl.col("issued_d").alias("id_issued_on"),
        text("id_issued_place").alias("id_issued_place"),
        pl.col("photo_ref").str.strip_chars().alias("photo_ref"),
        pl.col("point_t").alias("registration_point"),
        pl.col("kyc_b").alias("kyc_verified"),
        pl.col("guardian_b").alias("guardian_flag"),
        malformed.alias("malformed_fields"),
        "source_file",
        "source_line",
    )
    rejects = f.filter(pl.col("reason").is_not_null()).select(
        "source_file",
        "source_line",
        pl.concat_str(
            [pl.lit("msisdn="), pl.col("msisdn").fill_null(""), pl.lit("; subscriber_id="), pl.col("subscriber_id").fill_null("")]
        ).alias("raw"),
        "reason",
        "detail",
    )
    held = (
        f.filter(pl.col("reason").is_not_null() & pl.col("n_e164_int").is_not_null())
        .select(pl.col("n_e164_int").alias("msisdn_int"))
        .unique()
        .join(accepted.select("msisdn_int"), on="msisdn_int", how="anti")
    )
    return accepted, rejects, held


def _withhold_raw(rejects: pl.DataFrame) -> pl.DataFrame:
    """Reader rejects echo the whole record; for the registry that would copy names and ID numbers."""
    return rejects.with_columns(pl.lit(WITHHELD_RAW).alias("raw")) if rejects.height else rejects


def _check_file_carrier(d: Delivery, carriers: list[str]) -> str:
    if d.carrier is None or d.carrier not in carriers:
        raise InputError(d.path, f"a subscriber snapshot must be in subscribers/<carrier>/ with carrier one of {carriers}")
    named = set(re.split(r"[_.\-]", d.path.name.lower())) & set(carriers)
    if named and d.carrier not in named:
        raise InputError(
            d.path, f"the file name names carrier {sorted(named)[0]!r} but the file is in the {d.carrier!r} folder; "
            "move it to the right subscribers/<carrier>/ folder"
        )
    return d.carrier


def ensure_current_pseudonyms(con: duckdb.DuckDBPyConnection, key: PseudonymKey) -> bool:
    """Recompute every stored pseudonym when the key changed since they were made; True when it did."""
    params = {**key.sql_params(), "fingerprint": key.pseudonym("SUBFLAG-KEY-FINGERPRINT")}
    stored = query_model(con, "registry/key_fingerprint")
    if stored.height and stored["fingerprint"][0] == params["fingerprint"]:
        return False
    run_model(con, "registry/rekey", params)
    return True


def land_subscribers(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext) -> Landed:
    """Apply one carrier's full snapshot; a corrected file for the latest day replaces that day."""
    carrier = _check_file_carrier(d, ctx.settings.carrier_slugs())
    day = snapshot_date_from_name(d.path)
    latest = query_model(con, "registry/latest_snapshot", {"carrier": carrier})["latest"][0]
    if latest is not None and day < latest:
        raise InputError(
            d.path, f"snapshot {day} of {carrier} is older than its latest landed snapshot {latest}; "
            "full snapshots must be delivered in date order"
        )
    read = read_records(d.path, SUBSCRIBER_REQUIRED, SUBSCRIBER_OPTIONAL)
    accepted, rejects, held = parse_subscribers(read.records, ctx)
    if accepted.height == 0:
        raise InputError(
            d.path, f"no row of this full snapshot could be accepted ({read.rows_read} read); refusing to record "
            f"that every {carrier} subscriber left the registry"
        )
    rejects = pl.concat([_withhold_raw(read.rejects), rejects], how="diagonal_relaxed")
    key = key_for(ctx.settings)
    ensure_current_pseudonyms(con, key)
    params = {"carrier": carrier, "snapshot_date": day, "source_file": str(d.path), **key.sql_params()}
    if latest == day:
        run_model(con, "registry/undo_snapshot", params)
    with _registered(con, {"incoming_subscribers": accepted, "incoming_held": held}):
        run_model(con, "registry/apply_snapshot", {**params, "sha256": d.sha256, "run_id": ctx.run_id})
    insert_rejects(con, d, rejects, ctx.run_id)
    return Landed(
        rows_read=read.rows_read,
        rows_accepted=accepted.height,
        rows_rejected=rejects.height,
        extra={"subscribers": accepted.height, "held": held.height, "replaced_snapshot": int(latest == day)},
    )


def _carrier_names(settings: Settings) -> dict[str, str]:
    names: dict[str, str] = {}
    for c in settings.carriers:
        for label in (c.slug, c.short_name, c.name):
            names[label.strip().lower()] = c.slug
            names[re.sub(r"[\s\-_]+", "", label.strip().lower())] = c.slug
    return names


def parse_ported(records: pl.DataFrame, ctx: IngestContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Accepted port records and rejects (bad number, unknown carrier, bad timestamp), row for row."""
    tz = ctx.settings.run.timezone
    names = _carrier_names(ctx.settings)
    label = pl.col("carrier").str.strip_chars().str.to_lowercase()
    f = normalise_numbers(records, "msisdn", ctx.tables, prefix="n_").with_columns(
        pl.coalesce(
            label.replace_strict(names, default=None, return_dtype=pl.String),
            label.str.replace_all(r"[\s\-_]+", "").replace_strict(names, default=None, return_dtype=pl.String),
        ).alias("carrier_slug"),
        parse_timestamps(records["ported_at"], tz).alias("ported_ts"),
    )
    reason, detail = _first_failure(
        [
            (pl.col("n_kind") != "mobile", "invalid_number", "column msisdn: expected a Vietnamese mobile number"),
            (pl.col("carrier_slug").is_null(), "unknown_carrier",
             f"column carrier: expected one of {', '.join(ctx.settings.carrier_slugs())}"),
            (pl.col("ported_ts").is_null(), "bad_timestamp",
             "column ported_at: expected a date or timestamp like 2024-03-05 or 2024-03-05 09:15:00"),
        ]
    )
    f = f.with_columns(reason.alias("reason"), detail.alias("detail"))
    accepted = f.filter(pl.col("reason").is_null()).select(
        pl.col("n_e164_int").alias("msisdn_int"),
        pl.col("n_e164").cast(pl.String).alias("msisdn"),
        pl.col("n_national").cast(pl.String).alias("msisdn_national"),
        pl.col("n_carrier").cast(pl.String).alias("prefix_carrier"),
        pl.col("carrier_slug").alias("carrier"),
        pl.col("ported_ts").alias("ported_at"),
        pl.col("ported_ts").dt.convert_time_zone(tz).dt.date().alias("ported_on"),
        "source_file",
        "source_line",
    )
    raw_cols = [c for c in records.columns if c not in ("source_file", "source_line")]
    rejects = reject_rows(f.filter(pl.col("reason").is_not_null()), render_raw(raw_cols), pl.col("reason"), pl.col("detail"))
    return accepted, rejects


def land_ported(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext) -> Landed:
    read = read_records(d.path, PORTED_REQUIRED, [])
    accepted, rejects = parse_ported(read.records, ctx)
    rejects = pl.concat([read.rejects, rejects], how="diagonal_relaxed")
    insert_frame(con, "registry/insert_ported", {"incoming_ported": accepted}, d, ctx.run_id)
    insert_rejects(con, d, rejects, ctx.run_id)
    return Landed(rows_read=read.rows_read, rows_accepted=accepted.height, rows_rejected=rejects.height,
                  extra={"ported": accepted.height})


# --------------------------------------------------------------------------------------------- checks


def profile_frames(profile: RegulationProfile) -> dict[str, pl.DataFrame]:
    """The profile's document table and ladder as frames the check models join (names, not SQL text)."""
    docs = pl.DataFrame(
        [
            {
                "name": name.lower(),
                "id_type": d.type,
                "valid_years": d.valid_years,
                "renew_at_ages": d.renew_at_ages,
                "renew_grace_years": d.renew_grace_years,
                "valid_until": d.valid_until,
            }
            for d in profile.id_document
            for name in [d.type, *d.aliases]
        ],
        schema={
            "name": pl.String, "id_type": pl.String, "valid_years": pl.Int32,
            "renew_at_ages": pl.List(pl.Int32), "renew_grace_years": pl.Int32, "valid_until": pl.Date,
        },
    )
    ladder = pl.DataFrame(
        {
            "step_no": list(range(1, len(profile.step) + 1)),
            "action": [s.action for s in profile.step],
            "offset_days": profile.step_offsets(),
            "legal_basis": [s.legal_basis for s in profile.step],
        },
        schema={"step_no": pl.Int32, "action": pl.String, "offset_days": pl.Int32, "legal_basis": pl.String},
    )
    return {"cfg_id_documents": docs, "cfg_ladder": ladder}


def id_number_pattern(profile: RegulationProfile) -> str:
    """One expression over '<id_type>:<number>' for every document type, so SQL compiles it once."""
    parts = []
    for d in profile.id_document:
        body = d.pattern[1:] if d.pattern.startswith("^") else d.pattern
        body = body[:-1] if body.endswith("$") and not body.endswith("\\$") else body
        parts.append(f"{re.escape(d.type)}:(?:{body})")
    return "^(?:" + "|".join(parts) + ")$"


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, frames: Mapping[str, pl.DataFrame]) -> Iterator[None]:
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


def run_subscriber_checks(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, run_id: str) -> dict[str, int]:
    """Run the active profile's checks on the registry as of ``run_date``; returns hits per check id.

    Replaces the run date's hits and ladder positions (re-running a date is idempotent), keeps each
    subscriber's first-flag date across runs, and records the run. The caller owns the transaction.
    """
    profile = settings.profile
    params = {
        "run_date": run_date,
        "run_id": run_id,
        "profile": profile.name,
        "required_fields": list(profile.required_fields),
        "min_age_years": profile.min_age_years,
        "max_age_years": profile.max_age_years,
        "numbers_per_id_anywhere": profile.numbers_per_id_anywhere,
        "extra_numbers_points": list(profile.extra_numbers_points),
        "id_number_pattern": id_number_pattern(profile),
        "checked_at": datetime.now(UTC),
    }
    with _registered(con, profile_frames(profile)):
        run_model(con, "registry/clear_checks", params)
        for check in profile.check:
            run_model(con, CHECK_MODELS[check.id], {**params, "check_id": check.id, "legal_basis": check.legal_basis})
        run_model(con, "registry/update_flags", params)
        run_model(con, "registry/record_check_run", params)
        run_model(con, "registry/reverify_due", params)
        kill_point("checks.recorded")  # inside the caller's transaction, nothing committed yet
        counts = query_model(con, "registry/count_hits", params)
    found = dict(zip(counts["check_id"].to_list(), counts["hits"].to_list(), strict=True))
    return {c.id: int(found.get(c.id, 0)) for c in profile.check}


def registry_conflicts(con: duckdb.DuckDBPyConnection, run_date: date) -> pl.DataFrame:
    """Numbers two carriers' registries both list on one snapshot day (and same-instant double ports), up to run_date."""
    return query_model(con, "registry/conflicts", {"run_date": run_date})


REGISTRY_LANDERS: dict[str, Lander] = {"subscribers": land_subscribers, "ported": land_ported}
