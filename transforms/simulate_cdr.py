"""Synthetic call/SMS events per population, and the per-carrier, per-day CDR files they become.

Events are drawn population by population for all days at once (counts → ``np.repeat``), so the cost is
a few numpy passes over the event arrays. A call between two carriers is written twice — an originating
row in the A-party carrier's file and a terminating row in the B-party carrier's file, each with its own
record id — while an on-net call is one row in its carrier's file. ``cell_id`` and ``imei`` always
describe the *carrier's own* subscriber on that row (the A-party when it is theirs, else the B-party).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from transforms.config import Settings
from transforms.simulate_people import People

# How each carrier's vendor export spells numbers (real exports disagree), its record-id prefix and MNC.
NUMBER_STYLE = {"viettel": "cc", "vinaphone": "national", "mobifone": "plus", "vietnamobile": "bare",
                "itel": "cc", "gmobile": "national", "reddi": "plus"}
RECORD_CODE = {"viettel": "VT", "vinaphone": "VNP", "mobifone": "MBF", "vietnamobile": "VNM", "itel": "ITL",
               "gmobile": "GMB", "reddi": "RED"}
_MNC = {"mobifone": 1, "vinaphone": 2, "viettel": 4, "vietnamobile": 5, "gmobile": 7, "itel": 8, "reddi": 9}
MALFORMED_KINDS: tuple[str, ...] = ("negative_duration", "bad_start_time", "unknown_event_type", "empty_a_number")
KIND_MOBILE, KIND_LANDLINE, KIND_SERVICE = 0, 1, 2
CDR_COLUMNS = ("record_id", "a_number", "b_number", "start_time", "duration_s", "event_type", "cell_id", "imei")


def record_code(slug: str) -> str:
    return RECORD_CODE.get(slug, slug[:3].upper())


def _hours(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    assert w.size == 24
    return w / w.sum()


_DAY = _hours([1, .5, .3, .2, .3, 1, 3, 6, 8, 9, 9, 8, 7, 7, 8, 8, 8, 9, 10, 10, 9, 7, 4, 2])
_WORK = _hours([0] * 8 + [6, 9, 10, 10, 8, 7, 9, 10, 10, 9, 7, 4] + [0] * 4)
_OFFICE = _hours([0] * 8 + [8, 10, 10, 6, 0, 0, 8, 10, 10, 4] + [0] * 6)
_ALWAYS = _hours([3, 2, 2, 2, 3, 5, 8, 10, 10, 8, 7, 7, 7, 7, 7, 8, 9, 10, 10, 9, 8, 6, 5, 4])
_SCAM = _hours([1, .5, .2, .2, .2, .5, 2, 5, 9, 10, 10, 9, 6, 7, 9, 10, 9, 8, 7, 6, 5, 4, 3, 2])
_SPAM = _hours([0] * 7 + [3, 8, 10, 10, 9, 8, 8, 9, 10, 9, 8, 7, 6, 4, 2, .5, 0])


@dataclass(frozen=True)
class Behaviour:
    """How one population uses the phone (means; each subscriber gets a gamma-distributed activity level)."""

    per_day: float
    sms_share: float
    hours: np.ndarray
    contact_share: float     # callee drawn from the caller's own stable contact list
    special_share: float     # callee is a landline or 1900/1800 service number
    answer: float
    short: float             # share of answered calls that last under 10 s
    median_s: float          # median length of the other answered calls
    bursts: float            # mean dialling bursts per day; 0 = calls spread independently
    gap_s: float             # mean idle seconds between calls inside a burst
    weekend: float
    callback: float          # chance a callee calls this number back later the same day
    callback_missed_only: bool
    cells: str               # home_work | roam | fixed


BEHAVIOURS: dict[str, Behaviour] = {
    "normal": Behaviour(4.0, .30, _DAY, .88, .03, .82, .07, 80, 0, 0, 1.1, 0, False, "home_work"),
    "revenge_target": Behaviour(4.0, .30, _DAY, .88, .03, .82, .07, 80, 0, 0, 1.1, 0, False, "home_work"),
    "shipper": Behaviour(45, .12, _WORK, .08, 0, .75, .45, 25, 0, 0, .8, .25, False, "roam"),
    "taxi_dispatch": Behaviour(90, .05, _ALWAYS, .45, 0, .90, .55, 20, 0, 0, 1.1, .45, False, "fixed"),
    "call_centre": Behaviour(160, .02, _OFFICE, .02, 0, .42, .35, 70, 4, 15, .3, .06, False, "fixed"),
    "scammer": Behaviour(70, .04, _SCAM, 0, 0, .50, .50, 45, 4, 10, 1.0, .10, True, "fixed"),
    "ported_scammer": Behaviour(70, .04, _SCAM, 0, 0, .50, .50, 45, 4, 10, 1.0, .10, True, "fixed"),
    "spam_sms": Behaviour(280, .97, _SPAM, 0, 0, .20, .50, 20, 5, 4, 1.0, .01, True, "fixed"),
}
_CONTACTS = 12
_SPREAD = 12.0  # beta concentration: how much one line's answer/short rates stray from its population's


@dataclass
class Network:
    """Who can be dialled: the callee pool, each subscriber's stable contacts, and non-mobile numbers."""

    pool: np.ndarray
    pool_pos: np.ndarray
    contacts: np.ndarray
    n_contacts: np.ndarray
    special_nsn: np.ndarray
    special_kind: np.ndarray


def build_network(rng: np.random.Generator, p: People, settings: Settings) -> Network:
    pool = np.flatnonzero(p.reachable)
    pos = np.full(p.n, -1, dtype=np.int64)
    pos[pool] = np.arange(pool.size)
    anchor = np.where(pos >= 0, pos, rng.integers(0, pool.size, p.n))
    offs = rng.integers(1, 300, (p.n, _CONTACTS)) * np.where(rng.random((p.n, _CONTACTS)) < .5, -1, 1)
    contacts = pool[(anchor[:, None] + offs) % pool.size].astype(np.int32)
    area = rng.choice(settings.numbering.landline.area_codes, 40)
    land = np.array([int(a) * 10 ** (10 - len(a)) + int(r) % 10 ** (10 - len(a))
                     for a, r in zip(area, rng.integers(0, 10**8, area.size))], dtype=np.int64)
    hotlines = np.array([int(x.number[1:]) for x in settings.protected.numbers if x.number.startswith("02")],
                        dtype=np.int64)
    service = np.r_[19000000 + rng.integers(1000, 9999, 8), 18000000 + rng.integers(1000, 9999, 4)]
    special = np.r_[land, hotlines, service].astype(np.int64)
    kind = np.r_[np.full(land.size + hotlines.size, KIND_LANDLINE), np.full(service.size, KIND_SERVICE)]
    return Network(pool, pos, contacts, rng.integers(3, _CONTACTS + 1, p.n), special, kind.astype(np.int8))


def _cells(rng: np.random.Generator, p: People, who: np.ndarray, mode: str) -> np.ndarray:
    r = rng.random(who.size)
    if mode == "fixed":
        return p.home_cell[who]
    if mode == "roam":
        return ((p.home_cell[who] + rng.integers(0, 40, who.size)) % p.n_cells).astype(np.int32)
    other = rng.integers(0, p.n_cells, who.size)
    return np.where(r < .65, p.home_cell[who], np.where(r < .95, p.work_cell[who], other)).astype(np.int32)


def _imeis(rng: np.random.Generator, p: People, who: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The handset each line used that day; a scam ring's SIMs rotate through the ring's few phones."""
    ring = p.ring[who]
    in_ring = ring >= 0
    r = np.where(in_ring, ring, 0)
    dev = p.ring_devices[p.ring_dev_start[r] + (rng.random(who.size) * p.ring_dev_count[r]).astype(np.int64)]
    own = np.where(day >= p.imei_change_day[who], p.imei2[who], p.imei1[who])
    return np.where(in_ring, dev, own)


def _group_starts(key: np.ndarray) -> np.ndarray:
    return np.r_[True, key[1:] != key[:-1]]


def _burst_offsets(key: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Seconds from the burst start to each call: the running sum of earlier calls' steps in the burst."""
    order = np.argsort(key, kind="stable")
    s = step[order]
    before = np.cumsum(s) - s
    base = np.maximum.accumulate(np.where(_group_starts(key[order]), before, 0))
    out = np.empty_like(step)
    out[order] = before - base
    return out


def _one_call_at_a_time(key: np.ndarray, tod: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Push each line's calls later so none starts before the previous one ended (a SIM holds one call).

    With calls sorted by proposed time t and C the running sum of steps within the line-day, the
    start of call k is ``C[k-1] + max(t[j] - C[j-1] for j <= k)`` — a running max per group.
    """
    order = np.lexsort((tod, key))
    k, t, s = key[order], tod[order], step[order]
    first = _group_starts(k)
    cs = np.cumsum(s)
    before = cs - s
    c_prev = before - np.maximum.accumulate(np.where(first, before, 0))
    lift = np.cumsum(first).astype(np.int64) * 10**9  # keeps each group's running max to itself
    start = c_prev + np.maximum.accumulate(t - c_prev + lift) - lift
    out = np.empty_like(tod)
    out[order] = start
    return out


def _population_events(rng: np.random.Generator, p: People, net: Network, members: np.ndarray,
                       b: Behaviour, days: int, weekend: np.ndarray) -> dict[str, np.ndarray]:
    n = members.size
    level = rng.gamma(4.0, 0.25, n)
    day_factor = np.where(weekend, b.weekend, 1.0)
    lam = b.per_day * level[:, None] * day_factor[None, :]
    live = (np.arange(days)[None, :] >= p.activated[members][:, None]) & p.can_call[members][:, None]
    counts = rng.poisson(np.where(live, lam, 0.0))
    cell_of = np.repeat(np.arange(n * days), counts.ravel())
    m = cell_of.size
    a = members[cell_of // days]
    day = (cell_of % days).astype(np.int64)

    member = cell_of // days
    answer_i = rng.beta(b.answer * _SPREAD, (1 - b.answer) * _SPREAD, n)
    short_i = rng.beta(b.short * _SPREAD, (1 - b.short) * _SPREAD, n)
    callback_i = np.minimum(1.0, b.callback * rng.gamma(2.0, 0.5, n))
    sms = rng.random(m) < b.sms_share
    answered = (rng.random(m) < answer_i[member]) & ~sms
    short = rng.random(m) < short_i[member]
    long_s = np.maximum(11, rng.lognormal(np.log(b.median_s), 0.8, m)).astype(np.int64)
    dur = np.where(answered, np.where(short, rng.integers(2, 10, m), np.minimum(long_s, 7200)), 0)

    ring_s = rng.integers(15, 40, m)
    step = np.where(sms, 2, np.where(dur > 0, dur, ring_s)) + 2 + rng.exponential(b.gap_s, m).astype(np.int64)
    if b.bursts > 0:
        nb = 1 + rng.poisson(b.bursts - 1, n * days)
        burst = (rng.random(m) * nb[cell_of]).astype(np.int64)
        width = int(nb.max())
        starts = rng.choice(24, (n * days, width), p=b.hours) * 3600 + rng.integers(0, 3600, (n * days, width))
        tod = starts[cell_of, burst] + _burst_offsets(cell_of * width + burst, step)
    else:
        tod = rng.choice(24, m, p=b.hours) * 3600 + rng.integers(0, 3600, m)
    tod = _one_call_at_a_time(cell_of, tod, step)

    u = rng.random(m)
    callee = net.pool[rng.integers(0, net.pool.size, m)]
    to_contact = u < b.contact_share
    k = net.n_contacts[a[to_contact]]
    slot = (k * rng.random(to_contact.sum()) ** 2).astype(np.int64)
    callee[to_contact] = net.contacts[a[to_contact], slot]
    self_call = callee == a
    callee[self_call] = net.pool[(net.pool_pos[a[self_call]] + 1) % net.pool.size]
    special = (u >= b.contact_share) & (u < b.contact_share + b.special_share)
    pick = rng.integers(0, net.special_nsn.size, m)
    b_idx = np.where(special, -1, callee)
    ev = {
        "day": day, "tod": tod.astype(np.int64), "a": a, "b": b_idx,
        "b_kind": np.where(special, net.special_kind[pick], KIND_MOBILE).astype(np.int8),
        "b_nsn": np.where(special, net.special_nsn[pick], p.nsn[callee]),
        "dur": dur.astype(np.int64), "sms": sms,
        "a_cell": _cells(rng, p, a, b.cells), "a_imei": _imeis(rng, p, a, day),
    }
    if b.callback > 0:
        ev = _concat(ev, _callbacks(rng, p, ev, b, callback_i[member]))
    return _before_midnight(ev)


def _before_midnight(ev: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Drop the few calls a late burst or callback would push past midnight (clipping would stack them)."""
    keep = ev["tod"] < 86400
    return {k: v[keep] for k, v in ev.items()}


def _callbacks(rng: np.random.Generator, p: People, ev: dict[str, np.ndarray], b: Behaviour,
               chance: np.ndarray) -> dict[str, np.ndarray]:
    """Callees ringing the number back later that day (victims of a missed scam call, customers of a shipper)."""
    eligible = (ev["b"] >= 0) & ~ev["sms"] & (rng.random(ev["a"].size) < chance)
    if b.callback_missed_only:
        eligible &= ev["dur"] == 0
    sel = np.flatnonzero(eligible)
    m = sel.size
    who, back_to, day = ev["b"][sel], ev["a"][sel], ev["day"][sel]
    answered = rng.random(m) < b.answer
    dur = np.where(answered, np.maximum(3, rng.lognormal(np.log(b.median_s), 0.8, m)).astype(np.int64), 0)
    return {
        "day": day, "tod": ev["tod"][sel] + 60 + rng.exponential(900, m).astype(np.int64),
        "a": who, "b": back_to, "b_kind": np.full(m, KIND_MOBILE, dtype=np.int8), "b_nsn": p.nsn[back_to],
        "dur": dur, "sms": np.zeros(m, dtype=bool),
        "a_cell": _cells(rng, p, who, "home_work"), "a_imei": _imeis(rng, p, who, day),
    }


def _concat(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([x[k], y[k]]) for k in x}


def generate_events(rng: np.random.Generator, p: People, net: Network, days: int, day0: date) -> pl.DataFrame:
    """Every call/SMS in the window, one row per event, with both parties' carriers, cells and handsets."""
    weekend = np.array([(day0 + timedelta(days=d)).weekday() >= 5 for d in range(days)])
    parts = [_population_events(rng, p, net, p.members(name), beh, days, weekend)
             for name, beh in BEHAVIOURS.items() if p.members(name).size]
    ev = parts[0]
    for part in parts[1:]:
        ev = _concat(ev, part)
    b = ev["b"]
    has_b = b >= 0
    bb = np.where(has_b, b, 0)
    frame = pl.DataFrame({
        "t": ev["day"] * 86400 + ev["tod"], "a": ev["a"].astype(np.int32), "b": b.astype(np.int32),
        "a_nsn": p.nsn[ev["a"]], "b_nsn": ev["b_nsn"], "b_kind": ev["b_kind"],
        "a_cur": p.cur[ev["a"]], "b_cur": np.where(has_b, p.cur[bb], -1).astype(np.int16),
        "dur": ev["dur"].astype(np.int32), "sms": ev["sms"],
        "a_cell": ev["a_cell"].astype(np.int32), "a_imei": ev["a_imei"],
        "b_cell": np.where(has_b, _cells(rng, p, bb, "home_work"), -1).astype(np.int32),
        "b_imei": np.where(has_b, _imeis(rng, p, bb, ev["day"]), 0),
    })
    return frame


# --- writing ------------------------------------------------------------------------------------


def format_number(nsn: pl.Expr, kind: pl.Expr, style: str) -> pl.Expr:
    """A carrier's spelling of a number; service numbers (1900…/1800…) carry no country code anywhere."""
    s = nsn.cast(pl.String)
    national = {"cc": pl.concat_str(pl.lit("84"), s), "national": pl.concat_str(pl.lit("0"), s),
                "plus": pl.concat_str(pl.lit("+84"), s), "bare": s}[style]
    return pl.when(kind == KIND_SERVICE).then(s).otherwise(national)


def local_time(seconds: pl.Expr, epoch0: int) -> pl.Expr:
    """Naive local wall-clock datetime from seconds since day0 (Vietnam has no DST)."""
    return pl.from_epoch(seconds + epoch0, time_unit="s")


@dataclass
class CdrFileTruth:
    path: str
    rows: int
    originating: int
    terminating: int
    duplicates: int
    malformed: dict[str, int]


def _carrier_rows(events: pl.DataFrame, k: int, slug: str) -> pl.DataFrame:
    style = NUMBER_STYLE.get(slug, "national")
    mnc = _MNC.get(slug, 99)
    orig = events.filter(pl.col("a_cur") == k).select(
        "t", "a_nsn", "b_nsn", "b_kind", "dur", "sms", pl.col("a_cell").alias("cell"),
        pl.col("a_imei").alias("imei"), pl.lit(0, dtype=pl.Int8).alias("leg"))
    term = events.filter((pl.col("b_cur") == k) & (pl.col("a_cur") != k)).select(
        "t", "a_nsn", "b_nsn", "b_kind", "dur", "sms", pl.col("b_cell").alias("cell"),
        pl.col("b_imei").alias("imei"), pl.lit(1, dtype=pl.Int8).alias("leg"))
    return pl.concat([orig, term]).sort("t", "a_nsn", "b_nsn", "leg").select(
        "t", "leg",
        format_number(pl.col("a_nsn"), pl.lit(KIND_MOBILE), style).alias("a_number"),
        format_number(pl.col("b_nsn"), pl.col("b_kind"), style).alias("b_number"),
        pl.col("dur").alias("duration_s"),
        pl.when("sms").then(pl.lit("sms")).otherwise(pl.lit("voice")).alias("event_type"),
        pl.concat_str(pl.lit(f"452-{mnc:02d}-"), pl.col("cell").cast(pl.String).str.zfill(5)).alias("cell_id"),
        pl.col("imei").cast(pl.String).alias("imei"),
    )


def _malformed(rng: np.random.Generator, day_rows: pl.DataFrame, first_seq: int, prefix: str) -> pl.DataFrame:
    """One broken copy per kind, with fresh record ids, placed at the source row's time."""
    pick = rng.choice(day_rows.height, len(MALFORMED_KINDS), replace=day_rows.height < len(MALFORMED_KINDS))
    bad = day_rows[pick].with_columns(
        pl.Series("kind", MALFORMED_KINDS),
        pl.Series("record_id", [f"{prefix}{first_seq + i:08d}" for i in range(len(MALFORMED_KINDS))]),
    )
    return bad.with_columns(
        pl.when(pl.col("kind") == "negative_duration")
        .then((-(pl.col("duration_s").cast(pl.Int64) + 1)).cast(pl.String))
        .otherwise("duration_s").alias("duration_s"),
        pl.when(pl.col("kind") == "bad_start_time")
        .then(pl.concat_str(pl.col("start_time").str.head(10), pl.lit(" 25:61:00")))
        .otherwise("start_time").alias("start_time"),
        pl.when(pl.col("kind") == "unknown_event_type").then(pl.lit("data")).otherwise("event_type")
        .alias("event_type"),
        pl.when(pl.col("kind") == "empty_a_number").then(pl.lit("")).otherwise("a_number").alias("a_number"),
    ).drop("kind")


def write_cdr(rng: np.random.Generator, events: pl.DataFrame, p: People, day0: date, days: int, epoch0: int,
              tz: str, fmt: str, inbox: Path,
              write: Callable[[Path, Callable[[Path], None]], None]) -> list[CdrFileTruth]:
    truths: list[CdrFileTruth] = []
    for k, slug in enumerate(p.carriers):
        rows = _carrier_rows(events, k, slug).with_columns((pl.col("t") // 86400).alias("day"))
        by_day = {d: rows.filter(pl.col("day") == d) for d in range(days)}
        for d in range(days):
            day = day0 + timedelta(days=d)
            prefix = f"{record_code(slug)}{day:%Y%m%d}"
            part = by_day[d].with_columns(
                pl.concat_str(pl.lit(prefix), pl.int_range(pl.len()).cast(pl.String).str.zfill(8)).alias("record_id"),
                local_time(pl.col("t"), epoch0).alias("start_time"),
            )
            n_valid = part.height
            dup_n = int(rng.integers(1, 4)) if n_valid else 0
            dups = part[rng.choice(n_valid, dup_n, replace=False)] if dup_n else part.head(0)
            malformed = {kind: 0 for kind in MALFORMED_KINDS}
            if fmt == "parquet":
                out = pl.concat([part, dups]).select(
                    *CDR_COLUMNS[:3],
                    pl.col("start_time").dt.replace_time_zone(tz).dt.cast_time_unit("us"),
                    *CDR_COLUMNS[4:])
                name = f"cdr_{slug}_{day:%Y%m%d}.parquet"
                path = inbox / "cdr" / slug / name
                write(path, lambda tmp, out=out: out.write_parquet(tmp, compression="zstd", statistics=True))
            else:
                as_text = part.with_columns(
                    pl.col("start_time").dt.strftime("%Y-%m-%d %H:%M:%S"), pl.col("duration_s").cast(pl.String))
                dups = dups.with_columns(
                    pl.col("start_time").dt.strftime("%Y-%m-%d %H:%M:%S"), pl.col("duration_s").cast(pl.String))
                if n_valid:
                    bad = _malformed(rng, as_text, n_valid, prefix)
                    as_text = pl.concat([as_text, bad]).sort("t", maintain_order=True)
                    malformed = {kind: 1 for kind in MALFORMED_KINDS}
                out = pl.concat([as_text, dups]).select(CDR_COLUMNS)
                name = f"cdr_{slug}_{day:%Y%m%d}.csv.gz"
                path = inbox / "cdr" / slug / name
                write(path, lambda tmp, out=out: out.write_csv(tmp, compression="gzip", compression_level=5,
                                                                 check_extension=False))
            leg = part["leg"]
            truths.append(CdrFileTruth(
                f"cdr/{slug}/{name}", out.height, int((leg == 0).sum()), int((leg == 1).sum()), dup_n, malformed))
    return truths
