"""Who lives in the synthetic network: numbers, populations, devices, cells and registry identities.

Every array here is indexed by subscriber (0..n-1). Times are integer seconds or days relative to the
first simulated day (``day0``, local midnight), so the CDR and report stages never need calendars.

The populations are deliberately *honest* (see :mod:`transforms.simulate` for the overlap table): bad
actors look bad on several independent axes at once (fresh prepaid SIM, shared devices, agent
registration, weak KYC, reports), while benign heavy callers look bad only on the CDR axes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from transforms.config import Settings

POPULATIONS: tuple[str, ...] = (
    "normal", "revenge_target", "shipper", "taxi_dispatch", "call_centre",
    "scammer", "ported_scammer", "spam_sms", "blocked_scammer",
)
POP = {name: i for i, name in enumerate(POPULATIONS)}
BAD_ACTORS: tuple[str, ...] = ("scammer", "ported_scammer", "spam_sms")
HEAVY_BENIGN: tuple[str, ...] = ("shipper", "taxi_dispatch", "call_centre")
STATUSES: tuple[str, ...] = ("active", "one_way_blocked", "two_way_blocked", "terminated")
PLANS: tuple[str, ...] = ("prepaid", "postpaid")
REG_POINTS: tuple[str, ...] = ("own_store", "agent", "online", "ekyc")
ID_TYPES: tuple[str, ...] = ("cccd", "cmnd", "passport")

# Share of all subscribers, and the floor that keeps every population present in small test inboxes.
_SHARE = {"scammer": 0.003, "spam_sms": 0.001, "shipper": 0.004, "taxi_dispatch": 0.0008,
          "call_centre": 0.001, "revenge_target": 0.0005, "blocked_scammer": 0.0002}
_FLOOR = {"scammer": 10, "spam_sms": 3, "shipper": 8, "taxi_dispatch": 3, "call_centre": 4,
          "revenge_target": 3, "blocked_scammer": 1}
MIN_SUBSCRIBERS = 500

# Rough national market shares; a carrier added to config later gets a small default share.
_CARRIER_SHARE = {"viettel": 0.50, "vinaphone": 0.21, "mobifone": 0.19, "vietnamobile": 0.05,
                  "itel": 0.025, "gmobile": 0.015, "reddi": 0.01}
_DEFAULT_SHARE = 0.01
PORTED_FROM, PORTED_TO = "viettel", "mobifone"
MNP_START = date(2018, 11, 16)

_FAMILY = [("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7.1), ("Hoàng", 5.1), ("Huỳnh", 3),
           ("Phan", 4.5), ("Vũ", 3.9), ("Võ", 3), ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3),
           ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Đinh", 1), ("Trương", 1), ("Lâm", 0.5), ("Mai", 0.5)]
_MIDDLE = (["Văn", "Đức", "Minh", "Hữu", "Quang", "Thanh", "Công", "Xuân", "Hoàng", "Ngọc", "Tuấn", "Quốc"],
           ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Hồng", "Bảo", "Mỹ", "Phương", "Thùy", "Hoài"])
_GIVEN = (["An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Khoa", "Long",
           "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành", "Trung", "Tuấn",
           "Việt", "Vinh", "Lộc"],
          ["Anh", "Châu", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Loan", "Mai",
           "Ngân", "Nhung", "Oanh", "Phượng", "Quỳnh", "Tâm", "Thảo", "Trang", "Trinh", "Uyên", "Vân", "Yến",
           "Thủy"])
_COMPANIES = {  # fictional enterprises
    "taxi_dispatch": ["Công ty TNHH Taxi Sông Hậu", "Công ty CP Taxi Tây Đô", "Hợp tác xã Vận tải Ninh Kiều"],
    "call_centre": ["Công ty CP Dịch vụ Khách hàng Sao Việt", "Công ty TNHH Chăm sóc Khách hàng An Phú",
                    "Công ty CP Tư vấn Tài chính Phú Thịnh"],
}
# CCCD province codes (first three digits) with the place an old CMND was issued.
_PROVINCES = [(1, "Hà Nội"), (31, "Hải Phòng"), (38, "Thanh Hóa"), (40, "Nghệ An"), (46, "Thừa Thiên Huế"),
              (48, "Đà Nẵng"), (58, "Ninh Thuận"), (66, "Đắk Lắk"), (74, "Bình Dương"), (75, "Đồng Nai"),
              (79, "TP. Hồ Chí Minh"), (86, "Vĩnh Long"), (89, "An Giang"), (92, "Cần Thơ"),
              (94, "Sóc Trăng"), (96, "Cà Mau")]
_TACS = np.array([35332510, 35891505, 86769804, 35420411, 35290611, 86891203, 35672309, 86453105], dtype=np.int64)
NO_DAY = 1_000_000


@dataclass
class People:
    """Column arrays describing every simulated subscriber (index = subscriber id)."""

    carriers: list[str]
    nsn: np.ndarray            # int64 national significant number (9 digits)
    orig: np.ndarray           # carrier index from the prefix
    cur: np.ndarray            # carrier index today (differs when ported)
    pop: np.ndarray            # index into POPULATIONS
    activated: np.ndarray      # day (relative to day0) the subscription started at the current carrier
    plan: np.ndarray           # index into PLANS
    status_first: np.ndarray   # index into STATUSES in the first snapshot
    status_last: np.ndarray    # ... and in the last one
    ported_at: np.ndarray      # seconds relative to day0, NO_DAY*86400 when never ported
    ring: np.ndarray           # scam ring id, -1 when none
    imei1: np.ndarray
    imei2: np.ndarray
    imei_change_day: np.ndarray
    home_cell: np.ndarray
    work_cell: np.ndarray
    ring_devices: np.ndarray   # IMEIs of scam-ring phones, sliced by ring_dev_start/ring_dev_count
    ring_dev_start: np.ndarray
    ring_dev_count: np.ndarray
    n_cells: int

    @property
    def n(self) -> int:
        return len(self.nsn)

    def members(self, *names: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.pop, [POP[n] for n in names]))

    @property
    def can_call(self) -> np.ndarray:
        return (self.status_last == 0) & (self.pop != POP["blocked_scammer"])

    @property
    def reachable(self) -> np.ndarray:
        """Who an ordinary caller may dial: live, non-criminal lines (victims, contacts, customers)."""
        bad = np.isin(self.pop, [POP[n] for n in (*BAD_ACTORS, "blocked_scammer")])
        return ~bad & np.isin(self.status_last, [0, 1])


def carrier_shares(slugs: list[str]) -> np.ndarray:
    w = np.array([_CARRIER_SHARE.get(s, _DEFAULT_SHARE) for s in slugs], dtype=float)
    return w / w.sum()


def population_sizes(total: int) -> dict[str, int]:
    sizes = {p: max(_FLOOR[p], round(total * s)) for p, s in _SHARE.items()}
    sizes["ported_scammer"] = max(1, round(sizes["scammer"] * 0.02))
    sizes["normal"] = total - sum(sizes.values())
    return sizes


def _luhn_imei(rng: np.random.Generator, n: int) -> np.ndarray:
    body = rng.choice(_TACS, n) * 1_000_000 + rng.integers(0, 1_000_000, n)
    digits = (body[:, None] // (10 ** np.arange(13, -1, -1, dtype=np.int64))) % 10
    doubled = digits.copy()
    doubled[:, 1::2] *= 2  # positions 2,4,..,14 from the left are doubled for a 15-digit IMEI
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return body * 10 + check


def _draw_numbers(rng: np.random.Generator, carrier_of: np.ndarray, watched_only: np.ndarray,
                  settings: Settings) -> np.ndarray:
    """Unique 9-digit NSNs whose prefix belongs to each subscriber's original carrier."""
    n = len(carrier_of)
    head = np.zeros(n, dtype=np.int64)
    free_digits = np.zeros(n, dtype=np.int64)
    for ci, c in enumerate(settings.carriers):
        for watched in (False, True):
            sel = np.flatnonzero((carrier_of == ci) & (watched_only == watched))
            pool = (c.watched_prefixes or c.prefixes) if watched else c.prefixes
            if sel.size == 0:
                continue
            pick = rng.integers(0, len(pool), sel.size)
            head[sel] = np.array([int(p[1:]) for p in pool], dtype=np.int64)[pick]
            free_digits[sel] = np.array([10 - len(p) for p in pool], dtype=np.int64)[pick]
    scale = 10 ** free_digits
    nsn = head * scale + (rng.random(n) * scale).astype(np.int64)
    while True:
        _, first = np.unique(nsn, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        if dup.size == 0:
            return nsn
        nsn[dup] = head[dup] * scale[dup] + (rng.random(dup.size) * scale[dup]).astype(np.int64)


def _ring_layout(rng: np.random.Generator, n_scam: int, n_ported: int, slugs: list[str],
                 settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Ring id and ring carrier per scammer; ring 0 lives at the carrier the ported scammers moved to."""
    sizes = [max(5, n_ported + 3)]
    while sum(sizes) < n_scam:
        sizes.append(int(rng.integers(3, 8)))
    sizes[-1] -= sum(sizes) - n_scam
    if sizes[-1] < 1:
        sizes.pop()
        sizes[-1] += n_scam - sum(sizes)
    ring_of = np.repeat(np.arange(len(sizes)), sizes)
    watched = [i for i, c in enumerate(settings.carriers) if c.watched_prefixes]
    w = carrier_shares(slugs)[watched]
    ring_carrier = rng.choice(watched, len(sizes), p=w / w.sum())
    ring_carrier[0] = slugs.index(PORTED_TO) if PORTED_TO in slugs else watched[0]
    return ring_of, ring_carrier


def build_people(rng: np.random.Generator, total: int, days: int, day0: date, settings: Settings) -> People:
    slugs = settings.carrier_slugs()
    sizes = population_sizes(total)
    pop = np.concatenate([np.full(sizes[p], POP[p], dtype=np.int8) for p in POPULATIONS])
    n = len(pop)
    shares = carrier_shares(slugs)
    cur = rng.choice(len(slugs), n, p=shares).astype(np.int16)
    ring = np.full(n, -1, dtype=np.int32)

    scam = np.flatnonzero(np.isin(pop, [POP["ported_scammer"], POP["scammer"]]))
    scam = np.concatenate([scam[pop[scam] == POP["ported_scammer"]], scam[pop[scam] == POP["scammer"]]])
    ring_of, ring_carrier = _ring_layout(rng, scam.size, sizes["ported_scammer"], slugs, settings)
    ring[scam] = ring_of
    cur[scam] = ring_carrier[ring_of]
    orig = cur.copy()
    ported = pop == POP["ported_scammer"]
    orig[ported] = slugs.index(PORTED_FROM) if PORTED_FROM in slugs else (int(cur[ported][0]) + 1) % len(slugs)

    normal = np.flatnonzero(pop == POP["normal"])
    ported_normal = normal[rng.random(normal.size) < 0.004]
    orig[ported_normal] = (cur[ported_normal] + rng.integers(1, len(slugs), ported_normal.size)) % len(slugs)
    is_ported = orig != cur

    watched_only = np.isin(pop, [POP[p] for p in (*BAD_ACTORS, "blocked_scammer")])
    nsn = _draw_numbers(rng, orig, watched_only, settings)

    act = -(1 + rng.exponential(1800, n)).astype(np.int32)
    act = np.maximum(act, -8000)
    fresh = (pop == POP["normal"]) & (rng.random(n) < 0.03)
    act[fresh] = -rng.integers(1, 60, fresh.sum())
    for name, lo, hi in (("shipper", 200, 3000), ("taxi_dispatch", 500, 4000), ("call_centre", 300, 3000),
                         ("blocked_scammer", 30, 90)):
        m = pop == POP[name]
        act[m] = -rng.integers(lo, hi, m.sum())
    for name in ("scammer", "spam_sms"):
        m = pop == POP[name]
        act[m] = rng.integers(-10, days // 2 + 1, m.sum())
    if days >= 2:  # at least one SIM bought during the window, so the two snapshots differ
        act[np.flatnonzero(pop == POP["scammer"])[-1]] = max(1, days // 2)
    since_mnp = (day0 - MNP_START).days
    act[ported_normal] = -rng.integers(30, since_mnp, ported_normal.size)
    act[ported] = -rng.integers(20, 45, ported.sum())
    ported_at = np.full(n, NO_DAY * 86400, dtype=np.int64)
    ported_at[is_ported] = act[is_ported].astype(np.int64) * 86400 + rng.integers(8 * 3600, 17 * 3600, is_ported.sum())

    postpaid_p = np.select([pop == POP["normal"], pop == POP["shipper"],
                            np.isin(pop, [POP["taxi_dispatch"], POP["call_centre"]])], [0.12, 0.5, 1.0], 0.0)
    plan = (rng.random(n) < postpaid_p).astype(np.int8)

    status_first = np.zeros(n, dtype=np.int8)
    status_first[pop == POP["blocked_scammer"]] = 2
    settled = normal[~is_ported[normal]]
    picked = rng.choice(settled, 2 * max(2, round(settled.size * 0.002)), replace=False)
    kyc_blocked, terminated = np.split(picked, 2)
    status_first[kyc_blocked] = 1
    status_last = status_first.copy()
    status_last[terminated] = 3

    n_cells = max(40, total // 250)
    home = rng.integers(0, n_cells, n).astype(np.int32)
    work = rng.integers(0, n_cells, n).astype(np.int32)
    n_rings = int(ring.max()) + 1
    ring_home = rng.integers(0, n_cells, n_rings).astype(np.int32)
    home[scam] = ring_home[ring[scam]]
    fixed = np.concatenate([scam, np.flatnonzero(np.isin(pop, [POP["taxi_dispatch"], POP["call_centre"]]))])
    work[fixed] = home[fixed]

    imei1 = _luhn_imei(rng, n)
    imei2 = _luhn_imei(rng, n)
    change = np.full(n, NO_DAY, dtype=np.int32)
    changers = normal[rng.random(normal.size) < 0.015]
    change[changers] = rng.integers(1, max(2, days), changers.size)
    ring_size = np.bincount(ring[scam], minlength=n_rings)
    dev_count = np.maximum(1, ring_size // 2).astype(np.int32)
    dev_start = np.concatenate([[0], np.cumsum(dev_count)[:-1]]).astype(np.int32)
    devices = _luhn_imei(rng, int(dev_count.sum()))
    imei1[scam] = devices[dev_start[ring[scam]]]

    return People(slugs, nsn, orig, cur, pop, act, plan, status_first, status_last, ported_at, ring,
                  imei1, imei2, change, home, work, devices, dev_start, dev_count, n_cells)


# --- registry identities ------------------------------------------------------------------------


def _gather(values: list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(idx)


def _person_identities(rng: np.random.Generator, n: int, day0: date) -> pl.DataFrame:
    female = rng.random(n) < 0.5
    fam_w = np.array([w for _, w in _FAMILY])
    family = _gather([f for f, _ in _FAMILY], rng.choice(len(_FAMILY), n, p=fam_w / fam_w.sum()))
    mid = np.where(female, rng.integers(0, len(_MIDDLE[1]), n) + len(_MIDDLE[0]), rng.integers(0, len(_MIDDLE[0]), n))
    giv = np.where(female, rng.integers(0, len(_GIVEN[1]), n) + len(_GIVEN[0]), rng.integers(0, len(_GIVEN[0]), n))
    age_days = rng.integers(17 * 365, 78 * 365, n)
    d0 = np.datetime64(day0, "D")
    dob = d0 - age_days.astype("timedelta64[D]")
    born = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    old = born < 1990
    id_type = np.where(rng.random(n) < 0.02, 2, np.where(old & (rng.random(n) < 0.3), 1, 0))
    prov = rng.integers(0, len(_PROVINCES), n)
    prov_code = np.array([c for c, _ in _PROVINCES], dtype=np.int64)[prov]
    gender_digit = (born >= 2000) * 2 + female
    cccd = prov_code * 10**9 + gender_digit * 10**8 + (born % 100) * 10**6 + rng.integers(0, 10**6, n)
    cmnd = rng.integers(100_000_000, 400_000_000, n)
    passport = rng.integers(1_000_000, 10_000_000, n)
    adult = dob + np.timedelta64(14 * 365 + 4, "D")
    # Documents are valid on day0 (expired ones would be a planted defect, not noise): a CCCD issued after
    # the holder's last renewal age (25, 40, 60), a CMND within its 15 years, a passport within its 10.
    age_years = age_days // 365
    last_renewal = np.select([age_years >= 60, age_years >= 40, age_years >= 25], [60, 40, 25], default=14)
    renewed = dob + (last_renewal * 365 + last_renewal // 4 + 1).astype("timedelta64[D]")
    validity = np.array([str(d0 - 15 * 365 + 30), str(d0 - 15 * 365 + 30), str(d0 - 10 * 365 + 30)], dtype="datetime64[D]")[id_type]
    floor = np.array(["2016-01-01", "2000-01-01", "2012-01-01"], dtype="datetime64[D]")[id_type]
    cap = np.array([str(d0 - 30), "2021-06-30", str(d0 - 30)], dtype="datetime64[D]")[id_type]
    lo = np.maximum(np.maximum(adult, floor), validity)
    lo = np.where(id_type == 0, np.maximum(lo, renewed), lo)
    span = np.maximum((cap - lo).astype(np.int64), 0)
    issued = lo + (rng.random(n) * span).astype("timedelta64[D]")
    frame = pl.DataFrame({
        "family": family,
        "middle": _gather(_MIDDLE[0] + _MIDDLE[1], mid),
        "given": _gather(_GIVEN[0] + _GIVEN[1], giv),
        "date_of_birth": dob,
        "id_type_i": id_type,
        "cccd": cccd, "cmnd": cmnd, "passport": passport,
        "province": _gather([p for _, p in _PROVINCES], prov),
        "id_issued_on": issued,
    })
    return frame.select(
        pl.concat_str("family", "middle", "given", separator=" ").alias("full_name"),
        "date_of_birth",
        pl.Series("id_type", ID_TYPES).gather(frame["id_type_i"]).alias("id_type"),
        pl.when(pl.col("id_type_i") == 0).then(pl.col("cccd").cast(pl.String).str.zfill(12))
        .when(pl.col("id_type_i") == 1).then(pl.col("cmnd").cast(pl.String))
        .otherwise(pl.concat_str(pl.lit("C"), pl.col("passport").cast(pl.String))).alias("id_number"),
        "id_issued_on",
        pl.when(pl.col("id_type_i") == 0).then(pl.lit("Cục Cảnh sát QLHC về TTXH"))
        .when(pl.col("id_type_i") == 1).then(pl.concat_str(pl.lit("Công an "), "province"))
        .otherwise(pl.lit("Cục Quản lý xuất nhập cảnh")).alias("id_issued_place"),
    )


def _identity_owner(rng: np.random.Generator, p: People) -> np.ndarray:
    """Whose identity document each line is registered under (several lines may share one person)."""
    owner = np.arange(p.n)
    normal = np.flatnonzero(p.pop == POP["normal"])
    by_carrier = normal[np.lexsort((normal, p.cur[normal]))]
    same_prev = np.r_[False, p.cur[by_carrier][1:] == p.cur[by_carrier][:-1]]
    second_line = same_prev & (rng.random(by_carrier.size) < 0.08)
    second_line &= ~np.r_[False, second_line[:-1]]  # at most two lines per person among normals
    owner[by_carrier[second_line]] = by_carrier[np.flatnonzero(second_line) - 1]
    scam = np.flatnonzero(p.ring >= 0)
    first_of_ring = np.full(int(p.ring.max()) + 1, p.n)
    np.minimum.at(first_of_ring, p.ring[scam], scam)
    owner[scam] = first_of_ring[p.ring[scam]]
    for name in ("taxi_dispatch", "call_centre"):
        m = np.flatnonzero(p.pop == POP[name])
        first = np.full(len(p.carriers), p.n)
        np.minimum.at(first, p.cur[m], m)
        owner[m] = first[p.cur[m]]
    return owner


@dataclass
class Registry:
    """Registry rows for every subscriber plus which KYC defects were planted (for the truth)."""

    frame: pl.DataFrame
    defects: pl.DataFrame


def build_registry(rng: np.random.Generator, p: People, day0: date, end: date, codes: dict[str, str]) -> Registry:
    ident = _person_identities(rng, p.n, day0)
    owner = _identity_owner(rng, p)
    ident = ident[owner]
    names = [c for name in _COMPANIES for c in _COMPANIES[name]]
    company_i = np.full(p.n, -1, dtype=np.int64)
    offset = 0
    for name, options in _COMPANIES.items():
        m = np.flatnonzero(p.pop == POP[name])
        company_i[m] = offset + p.cur[m] % len(options)
        offset += len(options)
    company = pl.Series(names, dtype=pl.String).gather(np.maximum(company_i, 0))
    company = pl.select(pl.when(pl.Series(company_i >= 0)).then(company)).to_series()
    reg = np.select(
        [np.isin(p.pop, [POP["taxi_dispatch"], POP["call_centre"]]), p.ring >= 0, p.pop == POP["spam_sms"],
         p.orig != p.cur],
        [0, 1, np.where(rng.random(p.n) < 0.5, 1, 2), 0],
        rng.choice(4, p.n, p=[0.35, 0.35, 0.10, 0.20]),
    )
    verified_p = np.select([p.ring >= 0, p.pop == POP["spam_sms"], p.pop == POP["normal"]], [0.4, 0.5, 0.985], 1.0)
    verified = rng.random(p.n) < verified_p
    verified = np.where(p.ring >= 0, verified[owner], verified)
    photo_missing = (p.ring >= 0) & (p.ring % 2 == 1)

    d0 = np.datetime64(day0, "D")
    frame = ident.with_columns(
        pl.Series("idx", np.arange(p.n)),
        pl.Series("population", POPULATIONS).gather(p.pop),
        company.alias("company"),
        pl.Series("activated_on", d0 + p.activated.astype("timedelta64[D]")),
        pl.Series("plan", PLANS).gather(p.plan),
        pl.Series("registration_point", REG_POINTS).gather(reg),
        pl.Series("kyc_verified", verified),
        pl.Series("cur", p.cur),
        pl.Series("carrier", p.carriers).gather(p.cur),
        pl.Series("photo_missing", photo_missing),
    ).with_columns(
        pl.coalesce("company", "full_name").alias("full_name"),
        pl.concat_str(pl.col("cur").replace_strict(dict(enumerate(codes[s] for s in p.carriers))),
                      pl.col("idx").cast(pl.String).str.zfill(9)).alias("subscriber_id"),
    ).with_columns(
        pl.when(pl.col("photo_missing")).then(None)
        .otherwise(pl.concat_str(pl.lit("ekyc/"), "carrier", pl.lit("/"), "subscriber_id", pl.lit(".jpg")))
        .alias("photo_ref"),
    ).drop("company", "cur", "photo_missing")
    return _plant_defects(rng, p, frame, owner, end)


def _plant_defects(rng: np.random.Generator, p: People, frame: pl.DataFrame, owner: np.ndarray,
                   end: date) -> Registry:
    n = p.n
    normal = np.flatnonzero((p.pop == POP["normal"]) & (owner == np.arange(n)))
    scam = np.flatnonzero(p.ring >= 0)
    missing = np.zeros(n, dtype=np.int8)  # 0 none, 1 name, 2 dob, 3 id number, 4 issue date
    kyc_blocked = np.flatnonzero(p.status_first == 1)
    pick = np.concatenate([kyc_blocked, rng.choice(normal, max(3, normal.size // 300), replace=False),
                           scam[rng.random(scam.size) < 0.2]])
    missing[pick] = np.arange(pick.size) % 4 + 1  # every kind of gap appears, even in small inboxes
    future = np.zeros(n, dtype=bool)
    future[[int(rng.choice(normal)), int(rng.choice(scam))]] = True
    # Ring 0 registered its SIMs with an ID number stolen from a normal subscriber on the same network.
    ring0_carrier = p.cur[scam[p.ring[scam] == 0][0]]
    victims = normal[(p.cur[normal] == ring0_carrier) & (missing[normal] == 0)]
    victim = int(victims[0]) if victims.size else int(normal[0])
    stolen_id, stolen_type = frame["id_number"][victim], frame["id_type"][victim]
    two_names = np.zeros(n, dtype=bool)
    two_names[scam[p.ring[scam] == 0]] = True
    two_names[victim] = True
    future_dob = np.datetime64(end, "D") + rng.integers(30, 3000, n).astype("timedelta64[D]")

    frame = frame.with_columns(
        pl.Series("missing", missing), pl.Series("future", future), pl.Series("stolen", two_names & (p.ring == 0)),
        pl.Series("future_dob", future_dob), pl.Series("two_names", two_names),
    ).with_columns(
        pl.when(pl.col("missing") == 1).then(None).otherwise("full_name").alias("full_name"),
        pl.when(pl.col("missing") == 2).then(None).when("future").then("future_dob")
        .otherwise("date_of_birth").alias("date_of_birth"),
        pl.when(pl.col("missing") == 3).then(None).when("stolen").then(pl.lit(stolen_id))
        .otherwise("id_number").alias("id_number"),
        pl.when(pl.col("missing") == 4).then(None).otherwise("id_issued_on").alias("id_issued_on"),
        pl.when("stolen").then(pl.lit(stolen_type)).otherwise("id_type").alias("id_type"),
    )
    per_id = frame.filter(pl.col("id_number").is_not_null()).group_by("carrier", "id_number").agg(
        pl.len().alias("lines"), (pl.col("registration_point") == "agent").any().alias("any_agent"))
    frame = frame.join(per_id, on=["carrier", "id_number"], how="left", maintain_order="left")
    defects = frame.select(
        "idx",
        pl.concat_str(
            pl.when(pl.col("missing") == 1).then(pl.lit("missing_full_name")),
            pl.when(pl.col("missing") == 2).then(pl.lit("missing_date_of_birth")),
            pl.when(pl.col("missing") == 3).then(pl.lit("missing_id_number")),
            pl.when(pl.col("missing") == 4).then(pl.lit("missing_id_issued_on")),
            pl.when(pl.col("future")).then(pl.lit("future_date_of_birth")),
            pl.when(~pl.col("kyc_verified")).then(pl.lit("kyc_unverified")),
            pl.when(pl.col("photo_ref").is_null()).then(pl.lit("missing_photo")),
            pl.when((pl.col("lines") >= 4) & pl.col("any_agent")).then(pl.lit("id_4plus_lines_agent")),
            pl.when("two_names").then(pl.lit("id_under_two_names")),
            separator=";", ignore_nulls=True,
        ).alias("kyc_defects"),
    ).with_columns(pl.when(pl.col("kyc_defects") != "").then("kyc_defects").alias("kyc_defects"))
    frame = frame.drop("missing", "future", "stolen", "future_dob", "two_names", "lines", "any_agent")
    return Registry(frame, defects)
