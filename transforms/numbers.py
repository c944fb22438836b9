"""Numbering core: the one place where phone numbers are understood.

CDR volumes (tens of millions of rows a day) forbid per-row Python, so a whole column is classified at
once. Strings that are already digits (nearly all CDR values) are parsed to int64 and classified by integer
arithmetic on the national significant number (NSN), with dense lookup tables built from config; only the
few messy strings (separators, full-width digits, sender names) go through NFKC and regex clean-up, as a
second small batch. Output strings are written directly as Arrow string views (a view holds up to 12 bytes
inline: every national form and a mobile E.164), because formatting through generic string kernels cost
more than all the classification together. ``phonenumbers`` is the oracle the tests hold this against.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import phonenumbers
import polars as pl
import pyarrow as pa
from phonenumbers import shortnumberinfo

from transforms.config import Settings

KINDS = ("mobile", "landline", "short_code", "toll_free", "premium", "international", "brandname", "invalid")
NumberKind = pl.Enum(KINDS)
SUFFIXES = ("e164", "e164_int", "national", "kind", "prefix3", "prefix5", "carrier", "legacy", "protected")

_MOBILE, _LANDLINE, _SHORT, _TOLL_FREE, _PREMIUM, _INTERNATIONAL, _BRANDNAME, _INVALID = range(len(KINDS))

_MAX_DIGITS = 18  # int64 holds every 18-digit value; anything longer is no phone number
_POW = np.array([10**k for k in range(_MAX_DIGITS + 1)], dtype=np.int64)
_KEY_SHIFT = 10**16  # protected-number key: national length * _KEY_SHIFT + national digits
_INLINE = 12  # bytes an Arrow string view stores inline

# Four ASCII bytes as one little-endian uint32 word: "0042" for 42; "+084" for 84.
_ASCII4 = np.array([int.from_bytes(f"{i:04d}".encode(), "little") for i in range(10_000)], dtype=np.uint32)
_BYTE_MASK = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=np.uint32)
# Per string length m <= 12: 10**(12-m) left-aligns m digits; byte masks keep m characters in words 1-3.
_LEFT = np.array([10 ** (_INLINE - m) for m in range(_INLINE + 1)], dtype=np.int64)
_MASKS = [np.array([_BYTE_MASK[min(max(m - 4 * w, 0), 4)] for m in range(_INLINE + 1)], np.uint32) for w in range(3)]

_CHUNK_ROWS = 1 << 16  # large enough that numpy's per-call overhead is small, small enough for the cache
_SEPARATORS = r"[\s\u200b\u200c\u200d\u2060\ufeff.\-()\[\]/]"
_SENDER_ID = r"^[A-Za-z0-9 ._-]{2,11}$"
# Digits other than ASCII and full-width (superscripts, circled, other scripts): NFKC would fold many of them
# into digits, but nobody types a number that way, so "0912345678²" is no 11-digit number.
_OTHER_DIGITS = r"[\p{N}--[0-9０-９]]"


def _span(prefix_digits: str, width: int) -> slice:
    """Rows of a dense table indexed by the first ``width`` digits that start with ``prefix_digits``."""
    pad = width - len(prefix_digits)
    if pad < 0:
        raise ValueError(f"prefix {prefix_digits} is longer than the {width}-digit lookup table")
    lo = int(prefix_digits) * 10**pad
    return slice(lo, lo + 10**pad)


@dataclass(frozen=True, eq=False, repr=False)
class NumberingTables:
    """Dense lookup tables built once from config, so classification is array indexing, not matching.

    Mobile tables are indexed by the first 4 NSN digits (config prefixes have 2–4 NSN digits, longest
    wins); landline and legacy tables by the first 3.
    """

    country_code: int
    cc_digits: int
    cc_scale: np.ndarray  # int64[20] by significant digits: 10 ** (digits after the country code), 0 if none
    e164_word: np.uint32  # "+" and the country code as the first bytes of an E.164 string
    cc_word: int  # the country code's digits as little-endian bytes
    mobile_len: int
    landline_len: int
    legacy_len: int
    legacy_kept: int
    carriers: tuple[str, ...]
    mobile_carrier: np.ndarray  # int64[10000]: 0 = no carrier, i + 1 = carriers[i]
    special: np.ndarray  # bool[10000]: special fixed ranges (069 police), NSN of mobile length
    area: np.ndarray  # bool[1000]
    legacy_prefix: np.ndarray  # int64[1000]: new NSN prefix for an old 3-digit NSN prefix, -1 if none
    legacy_prefix_digits: np.ndarray  # int64[1000]
    service: tuple[tuple[int, int, int], ...]  # (prefix value, prefix digits, kind code)
    service_lengths: tuple[int, ...]
    short_min: int
    short_max: int
    foreign_cc: np.ndarray  # bool[1000] by the first 3 digits after "+"
    intl_min: int
    intl_max: int
    protected_keys: np.ndarray  # int64, sorted: national length * 10**16 + national digits
    protected_filter: np.ndarray  # bool[65536] by the low 16 bits of the national digits
    protected_ranges: tuple[tuple[int, int], ...]  # (national prefix value, its length)
    carrier_words: np.ndarray  # complex128[len(carriers) + 1]: the slugs' 16-byte Arrow views, row 0 null
    carrier_buffers: tuple[pa.Buffer, ...]

    def __repr__(self) -> str:
        return f"NumberingTables(+{self.country_code}, carriers={list(self.carriers)})"

    @classmethod
    def from_settings(cls, settings: Settings) -> "NumberingTables":
        num = settings.numbering
        cc = num.country_code
        if not cc.isdigit() or not 1 <= len(cc) <= 3:
            raise ValueError(f"numbering.toml: country_code must be 1–3 digits, got {cc!r}")
        lengths = {"mobile_nsn_length": num.mobile_nsn_length, "landline_nsn_length": num.landline_nsn_length}
        for key, length in lengths.items():
            if length + 1 > _INLINE or length + len(cc) > _MAX_DIGITS:
                raise ValueError(f"numbering.toml: {key} = {length} is outside what the numbering core handles")

        carriers = tuple(c.slug for c in settings.carriers)
        mobile_carrier = np.zeros(10_000, dtype=np.int64)
        owned = [(p, i + 1) for i, c in enumerate(settings.carriers) for p in c.prefixes]
        for prefix, code in sorted(owned, key=lambda e: len(e[0])):  # shorter first: the longest prefix wins
            mobile_carrier[_span(prefix[1:], 4)] = code
        special = np.zeros(10_000, dtype=bool)
        for prefix in num.landline.special_ranges:
            special[_span(prefix[1:], 4)] = True
        mobile_carrier[special] = 0

        area = np.zeros(1_000, dtype=bool)
        for code in num.landline.area_codes:
            area[_span(code, 3)] = True

        legacy_prefix = np.full(1_000, -1, dtype=np.int64)
        legacy_prefix_digits = np.zeros(1_000, dtype=np.int64)
        for old, new in num.legacy.items():
            legacy_prefix[int(old[1:])] = int(new[1:])
            legacy_prefix_digits[int(old[1:])] = len(new) - 1

        svc = num.service
        service = tuple(
            (int(p), len(p), code) for code, p in ((_TOLL_FREE, svc.toll_free_prefix), (_PREMIUM, svc.premium_prefix))
        )

        foreign_cc = np.zeros(1_000, dtype=bool)
        for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            if str(code) != cc:
                foreign_cc[_span(str(code), 3)] = True

        prot = settings.protected
        national = [*prot.short_codes, *(n.number for n in prot.numbers)]
        keys = np.array(sorted({len(s) * _KEY_SHIFT + int(s) for s in national}), dtype=np.int64)
        protected_filter = np.zeros(1 << 16, dtype=bool)
        protected_filter[[int(s) & 0xFFFF for s in national]] = True
        ranges = tuple((int(r.prefix), len(r.prefix)) for r in prot.ranges)

        slug_views = pa.array([None, *carriers], type=pa.string_view())
        views = np.frombuffer(slug_views.buffers()[1], dtype=np.uint32).reshape(-1, 4).copy()
        views[0] = 0
        cc_scale = np.array([10 ** (k - len(cc)) if k > len(cc) else 0 for k in range(_MAX_DIGITS + 2)], dtype=np.int64)
        return cls(
            country_code=int(cc),
            cc_digits=len(cc),
            cc_scale=cc_scale,
            e164_word=np.uint32(int.from_bytes(f"+{cc}".encode(), "little")),
            cc_word=int.from_bytes(cc.encode(), "little"),
            mobile_len=num.mobile_nsn_length,
            landline_len=num.landline_nsn_length,
            legacy_len=num.legacy_nsn_length,
            legacy_kept=num.legacy_nsn_length - 3,
            carriers=carriers,
            mobile_carrier=mobile_carrier,
            special=special,
            area=area,
            legacy_prefix=legacy_prefix,
            legacy_prefix_digits=legacy_prefix_digits,
            service=service,
            service_lengths=tuple(sorted(set(svc.number_lengths))),
            short_min=svc.short_code_min_length,
            short_max=svc.short_code_max_length,
            foreign_cc=foreign_cc,
            intl_min=num.international_min_digits,
            intl_max=num.international_max_digits,
            protected_keys=keys,
            protected_filter=protected_filter,
            protected_ranges=ranges,
            carrier_words=views.view(np.complex128).reshape(-1),
            carrier_buffers=tuple(slug_views.buffers()[2:]),
        )


# ---------------------------------------------------------------------------------------------------------
# Raw strings -> digits as int64, digit count, leading "+".


def _as_text(raw: pl.Series) -> pl.Series:
    if raw.dtype == pl.String:
        return raw.rechunk()
    if raw.dtype.is_integer() or isinstance(raw.dtype, (pl.Categorical, pl.Enum, pl.Null)):
        return raw.cast(pl.String).rechunk()
    raise TypeError(f"column {raw.name!r}: expected phone numbers as strings (or integers), got {raw.dtype}")


def _views_of(series: pl.Series) -> tuple[np.ndarray, list[pa.Buffer]]:
    """The Arrow string views of a polars string column (zero-copy) and the data buffers they point into."""
    arr = series.to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.string_view():
        arr = arr.cast(pa.string_view())
    if len(arr) == 0:
        return np.zeros((0, 4), np.uint32), []
    views = np.frombuffer(arr.buffers()[1], dtype=np.uint32).reshape(-1, 4)[arr.offset : arr.offset + len(arr)]
    return views, list(arr.buffers()[2:])


def _fast_digits(text: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """(value, rows that need clean-up): value is -1 where the string is no plain digit string."""
    value = text.cast(pl.Int64, strict=False).fill_null(-1).to_numpy()
    messy = value < 0
    if text.null_count():
        messy &= text.is_not_null().to_numpy()
    return value, messy


@dataclass
class _Messy:
    value: np.ndarray
    views: np.ndarray  # of the cleaned digit strings
    brand: np.ndarray  # bool: a sender name
    names: pl.Series  # the sender names, upper-cased and trimmed


def _messy_digits(text: pl.Series) -> _Messy:
    """NFKC (only where non-ASCII), separators out, sender names recognised."""
    wide = np.flatnonzero((text.str.len_bytes() != text.str.len_chars()).to_numpy())
    exotic = np.zeros(len(text), dtype=bool)
    if len(wide):
        exotic[wide] = text.gather(wide).str.contains(_OTHER_DIGITS).fill_null(False).to_numpy()
        text = text.scatter(wide, text.gather(wide).str.normalize("NFKC"))
    clean = (
        pl.DataFrame({"t": text.str.strip_chars(), "x": exotic})
        .with_columns(d=pl.col("t").str.replace_all(_SEPARATORS, ""))
        .select(
            "t",
            brand=(pl.col("t").str.contains(_SENDER_ID) & pl.col("t").str.contains("[A-Za-z]") & ~pl.col("x")).fill_null(False),
            v=pl.when(pl.col("t").str.contains(r"\p{L}") | pl.col("x"))
            .then(None)
            .otherwise(pl.col("d").cast(pl.Int64, strict=False)),
            d=pl.col("d").fill_null(""),
        )
        .with_columns(v=pl.when(pl.col("v") >= 0).then(pl.col("v")).otherwise(-1))
    )
    return _Messy(
        value=clean["v"].to_numpy(),
        views=_views_of(clean["d"])[0],
        brand=clean["brand"].to_numpy(),
        names=clean["t"].filter(clean["brand"]).str.to_uppercase(),
    )


# ---------------------------------------------------------------------------------------------------------
# Classification by integer arithmetic, chunk by chunk (numpy releases the GIL, so chunks run in parallel).
# Masked assignment and np.where cost 2-4 ns per element on random masks; arithmetic with boolean factors
# costs a tenth of that, hence the style below.


def _pool_array(shape: int | tuple[int, ...], dtype: type) -> tuple[np.ndarray, pa.Buffer]:
    """An uninitialised array in Arrow's memory pool, which keeps freed pages for reuse.

    Output columns are wrapped zero-copy, and on this kind of VM the first touch of fresh pages from the
    OS costs more than the whole classification; a pool that recycles pages avoids paying it per call.
    """
    count = int(np.prod(shape))
    buffer = pa.allocate_buffer(max(count * np.dtype(dtype).itemsize, 1))
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape), buffer


class _Out:
    """Output arrays; string columns are Arrow views, uint32[n, 4] each, with a validity array."""

    ARRAYS = {
        "kind": ((), np.uint8),
        "e164": ((), np.int64),  # -1 = null
        "legacy": ((), np.bool_),
        "protected": ((), np.bool_),
        "e164_views": ((4,), np.uint32),
        "national": ((4,), np.uint32),
        "prefix3": ((4,), np.uint32),
        "prefix5": ((4,), np.uint32),
        "carrier": ((4,), np.uint32),
        "e164_valid": ((), np.bool_),
        "national_valid": ((), np.bool_),
        "prefix_valid": ((), np.bool_),
        "carrier_valid": ((), np.bool_),
    }

    def __init__(self, n: int, *, scratch: bool = False) -> None:
        self.buffers: dict[str, pa.Buffer] = {}
        for name, (shape, dtype) in self.ARRAYS.items():
            if scratch:  # rows that are copied into the real output, never wrapped
                array = np.empty((n, *shape), dtype)
            else:
                array, self.buffers[name] = _pool_array((n, *shape), dtype)
            setattr(self, name, array)
        self.e164_data: dict[int, pa.Buffer] = {}  # per chunk: the E.164 strings longer than 12 bytes
        self.foreign_long: dict[int, np.ndarray] = {}  # per chunk: foreign numbers of 12+ digits, patched later
        self.messy: dict[int, np.ndarray] = {}  # per chunk: rows that need clean-up first

    def take_rows(self, rows: np.ndarray, part: "_Out") -> None:
        """Overwrite ``rows`` with the rows of ``part`` (rows classified in a later pass)."""
        for name in self.ARRAYS:
            mine, theirs = getattr(self, name), getattr(part, name)
            if mine.ndim == 2:  # 16-byte views as one 16-byte scalar each: numpy's fast 1-D scatter
                mine, theirs = mine.view(np.complex128).reshape(-1), theirs.view(np.complex128).reshape(-1)
            mine[rows] = theirs
        self.e164_data.update(part.e164_data)
        self.foreign_long.update({k: rows[v] for k, v in part.foreign_long.items()})


def _digit_words(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x`` as an ``m``-digit zero-padded string (m <= 12), as the left-aligned bytes of three uint32 words."""
    left = x * _LEFT.take(m, mode="clip")
    hi = left // 100_000_000
    lo = left - hi * 100_000_000
    mid = lo // 10_000
    w1 = _ASCII4.take(hi, mode="clip") & _MASKS[0].take(m, mode="clip")
    w2 = _ASCII4.take(mid, mode="clip") & _MASKS[1].take(m, mode="clip")
    w3 = _ASCII4.take(lo - mid * 10_000, mode="clip") & _MASKS[2].take(m, mode="clip")
    return left, w1, w2, w3


def _plus_views(x: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Views of "+" followed by ``x`` written with ``digits`` digits (at most 11), for the few foreign rows."""
    _, w1, w2, w3 = _digit_words(x, digits)
    size = digits + 1
    return np.stack(
        [
            size.astype(np.uint32),
            np.uint32(ord("+")) | (w1 << 8),
            (w2 << 8) | (w1 >> 24),
            ((w3 << 8) | (w2 >> 24)) & _MASKS[2].take(size, mode="clip"),
        ],
        axis=1,
    )


def _classify_rows(t: NumberingTables, v: np.ndarray, text: np.ndarray, out: _Out, chunk: int, rows: slice) -> None:
    """Classify one chunk: ``v`` the digits as int64 (-1 = none), ``text`` the strings' Arrow views.

    A view holds the length and the first bytes of its string (all of them up to 12), so "+", "0" and "00"
    are byte tests.
    """
    first = text.view(np.uint8)[:, 4:8]
    plus = first[:, 0] == ord("+")
    d = text[:, 0].astype(np.int64) - plus  # digit count
    ok = (v >= 0) & (d <= _MAX_DIGITS)
    no_plus = ok & ~plus
    after_plus = ok & plus & (first[:, 1] != ord("0"))
    zero1 = no_plus & (first[:, 0] == ord("0"))
    zero2 = zero1 & (first[:, 1] == ord("0"))
    idd = zero2 & (first[:, 2] != ord("0"))  # 00 + country code
    trunk = zero1 & ~zero2  # 0 + NSN
    bare = no_plus & ~zero1
    sig = d - zero1 - zero2  # significant digits

    scale = t.cc_scale.take(sig, mode="clip")  # 10 ** (digits after the country code)
    cc_low = scale * t.country_code
    has_cc = (v >= cc_low) & (v < cc_low + scale)
    short = bare & (d >= t.short_min) & (d <= t.short_max)
    strip = has_cc & (after_plus | idd | (bare & (d > t.mobile_len) & ~short))
    foreign = (after_plus | idd) & ~has_cc
    nsn = v - cc_low * strip
    n = sig - strip * t.cc_digits
    vn = (strip & (nsn * 10 >= scale)) | trunk | (bare & ~short & ~strip)  # no 0 right after the country code

    head3 = nsn // 10 ** (t.landline_len - 3)
    old = head3 if t.legacy_len == t.landline_len else nsn // 10 ** (t.legacy_len - 3)
    legacy = vn & (n == t.legacy_len) & (t.legacy_prefix.take(old, mode="clip") >= 0)
    if legacy.any():
        converted = np.flatnonzero(legacy)
        prefix = old[converted]
        kept = 10**t.legacy_kept
        nsn[converted] = t.legacy_prefix[prefix] * kept + nsn[converted] % kept
        n[converted] = t.legacy_prefix_digits[prefix] + t.legacy_kept

    head4 = nsn // 10 ** (t.mobile_len - 4)
    at_mobile = vn & (n == t.mobile_len)
    carrier = t.mobile_carrier.take(head4, mode="clip") * at_mobile
    mobile = carrier > 0
    landline = (at_mobile & t.special.take(head4, mode="clip")) | (
        vn & (n == t.landline_len) & t.area.take(head3, mode="clip")
    )
    national = mobile | landline

    service_kind = np.zeros(len(v), np.uint8)
    for length in t.service_lengths:
        at_length = vn & (n == length) & ~national
        if not at_length.any():
            continue
        at_length = np.flatnonzero(at_length)
        for value, digits, code in t.service:
            service_kind[at_length[nsn[at_length] // 10 ** (length - digits) == value]] = code
    service = service_kind > 0
    kind = (
        np.uint8(_INVALID)
        - mobile * np.uint8(_INVALID - _MOBILE)
        - landline * np.uint8(_INVALID - _LANDLINE)
        - short * np.uint8(_INVALID - _SHORT)
        - service * (np.uint8(_INVALID) - service_kind)
    )
    e164 = out.e164[rows]
    np.multiply(t.country_code * _POW.take(n, mode="clip") + nsn + 1, national, out=e164)
    e164 -= 1

    nat_len = (national * (n + 1) + service * n + short * d).astype(np.uint32)
    nat_x = nsn * (national | service) + v * short
    left, w1, w2, w3 = _digit_words(nat_x, nat_len)
    views = out.national[rows]
    views[:, 0] = nat_len
    views[:, 1] = w1
    views[:, 2] = w2
    views[:, 3] = w3
    p3, p5 = out.prefix3[rows], out.prefix5[rows]
    p3[:, 0] = national * np.uint32(3)
    p3[:, 1] = (w1 & 0xFFFFFF) * national
    p3.view(np.uint64)[:, 1] = 0
    p5[:, 0] = national * np.uint32(5)
    p5[:, 1] = w1 * national
    p5.view(np.uint64)[:, 1] = (w2 & 0xFF) * national

    # E.164 of a national number = "+" + country code + national without its trunk 0: a byte shift.
    e164_len = (nat_len + np.uint32(t.cc_digits)) * national
    inline = national & (e164_len <= _INLINE)
    shift = 8 * t.cc_digits
    e1 = t.e164_word | ((w1 & 0xFFFFFF00) << shift)
    e2 = (w2 << shift) | (w1 >> (32 - shift))
    e3 = (w3 << shift) | (w2 >> (32 - shift))
    e164_views = out.e164_views[rows]
    e164_views[:, 0] = e164_len * inline
    e164_views[:, 1] = e1 * inline
    e164_views[:, 2] = e2 * inline
    e164_views[:, 3] = e3 * inline
    # Longer ones (landlines: 13 bytes) live in this chunk's data buffer, 16 bytes a number.
    longer = np.flatnonzero(national & ~inline)
    if len(longer):
        data = np.empty((len(longer), 4), np.uint32)
        data[:, 0], data[:, 1], data[:, 2] = e1[longer], e2[longer], e3[longer]
        data[:, 3] = w3[longer] >> (32 - shift)
        e164_views[longer, 0] = e164_len[longer]
        e164_views[longer, 1] = e1[longer]
        e164_views[longer, 2] = chunk  # data buffer index
        e164_views[longer, 3] = np.arange(len(longer), dtype=np.uint32) * 16
        out.e164_data[chunk] = pa.py_buffer(data)

    maybe_foreign = np.flatnonzero(foreign & (sig >= t.intl_min) & (sig <= t.intl_max))
    if len(maybe_foreign):
        head = v[maybe_foreign] // _POW.take(sig[maybe_foreign] - 3)
        hit = maybe_foreign[t.foreign_cc.take(head, mode="clip")]
        kind[hit] = _INTERNATIONAL
        e164[hit] = v[hit]
        fits = sig[hit] < _INLINE
        e164_views[hit[fits]] = _plus_views(v[hit[fits]], sig[hit[fits]])
        e164_views[hit[~fits]] = 0
        out.foreign_long[chunk] = hit[~fits] + rows.start

    # Protected numbers: a 64 K-entry filter on the low bits first, the exact test only on its few hits.
    protected = out.protected[rows]
    np.take(t.protected_filter, nat_x & 0xFFFF, out=protected, mode="clip")
    if protected.any():
        candidates = np.flatnonzero(protected)
        key = nat_x[candidates] + nat_len[candidates].astype(np.int64) * _KEY_SHIFT
        protected[candidates] = (key[:, None] == t.protected_keys[None, :]).any(axis=1)
    for value, length in t.protected_ranges:
        protected |= (nat_len >= length) & (left // 10 ** (_INLINE - length) == value)

    out.kind[rows] = kind
    np.logical_and(legacy, mobile, out=out.legacy[rows])
    np.take(t.carrier_words, carrier, out=out.carrier[rows].view(np.complex128).reshape(-1), mode="clip")
    np.greater_equal(e164, 0, out=out.e164_valid[rows])
    np.greater(nat_len, 0, out=out.national_valid[rows])
    out.prefix_valid[rows] = national
    out.carrier_valid[rows] = mobile


def _classify_common(t: NumberingTables, v: np.ndarray, text: np.ndarray, out: _Out, rows: slice) -> np.ndarray:
    """The shapes nearly every CDR value has, with a fraction of the work: returns which rows it took.

    A mobile NSN with a known carrier prefix written as 84…, +84…, 0084…, 0… or bare. Everything is written
    for every row of the chunk; rows it does not take are classified by :func:`_classify_rows` and
    overwritten.
    """
    length = text[:, 0].copy()
    word = text[:, 1].copy()  # the first 4 bytes, little-endian
    digits, cc, size = t.mobile_len, t.cc_digits, t.mobile_len + 1

    def starts(k: int, value: int) -> np.ndarray:
        return (word & ((1 << 8 * k) - 1)) == value

    with_cc = (length == cc + digits) & starts(cc, t.cc_word)  # 84xxxxxxxxx
    with_cc |= (length == 1 + cc + digits) & starts(cc + 1, ord("+") | t.cc_word << 8)  # +84xxxxxxxxx
    if cc <= 2:  # 0084xxxxxxxxx: the country code must be among the 4 bytes a long string's view holds
        with_cc |= (length == 2 + cc + digits) & starts(cc + 2, 0x3030 | t.cc_word << 16)
    first = word & 0xFF
    bare = (length == digits) & (first != ord("0")) & (first != ord("+"))  # xxxxxxxxx
    trunk = (length == size) & (first == ord("0")) & ((word & 0xFF00) != 0x3000)  # 0xxxxxxxxx
    nsn = v - with_cc * (t.country_code * 10**t.mobile_len)
    carrier = t.mobile_carrier.take(nsn // 10 ** (t.mobile_len - 4), mode="clip")
    taken = (with_cc | trunk | bare) & (carrier > 0) & (v >= 0)

    out.kind[rows] = _MOBILE
    np.add(nsn, t.country_code * 10**t.mobile_len, out=out.e164[rows])
    left = nsn * 10 ** (_INLINE - size)
    hi = left // 100_000_000
    lo = left - hi * 100_000_000
    mid = lo // 10_000
    w1 = _ASCII4.take(hi, mode="clip")
    w2 = _ASCII4.take(mid, mode="clip")
    w3 = _ASCII4.take(lo - mid * 10_000, mode="clip") & _MASKS[2][size]
    views = out.national[rows]
    views[:, 0] = size
    views[:, 1] = w1
    views[:, 2] = w2
    views[:, 3] = w3
    p3, p5 = out.prefix3[rows], out.prefix5[rows]
    p3[:, 0] = 3
    p3[:, 1] = w1 & 0xFFFFFF
    p3.view(np.uint64)[:, 1] = 0
    p5[:, 0] = 5
    p5[:, 1] = w1
    p5.view(np.uint64)[:, 1] = w2 & 0xFF
    shift = 8 * cc
    e164_views = out.e164_views[rows]
    e164_views[:, 0] = size + cc
    e164_views[:, 1] = t.e164_word | ((w1 & 0xFFFFFF00) << shift)
    e164_views[:, 2] = (w2 << shift) | (w1 >> (32 - shift))
    e164_views[:, 3] = (w3 << shift) | (w2 >> (32 - shift))
    np.take(t.carrier_words, carrier, out=out.carrier[rows].view(np.complex128).reshape(-1), mode="clip")

    protected = out.protected[rows]
    np.take(t.protected_filter, nsn & 0xFFFF, out=protected, mode="clip")
    if protected.any():
        candidates = np.flatnonzero(protected)
        key = nsn[candidates] + size * _KEY_SHIFT
        protected[candidates] = (key[:, None] == t.protected_keys[None, :]).any(axis=1)
    for value, digits in t.protected_ranges:
        if digits <= size:
            protected |= left // 10 ** (_INLINE - digits) == value
    out.legacy[rows] = False
    for name in ("e164_valid", "national_valid", "prefix_valid", "carrier_valid"):
        getattr(out, name)[rows] = True
    return taken


# ---------------------------------------------------------------------------------------------------------
# Assembly of polars columns from the arrays.


def _validity(valid: np.ndarray) -> pa.Buffer | None:
    return None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))


def _patch(views: np.ndarray, buffers: list[pa.Buffer], rows: np.ndarray, values: pl.Series) -> None:
    """Put arbitrary strings (foreign E.164 numbers of 13+ bytes, brandnames) at ``rows`` of a view array."""
    new, data = _views_of(values)
    new = new.copy()
    new[new[:, 0] > _INLINE, 2] += len(buffers)  # buffer index, now into the combined buffer list
    views[rows] = new
    buffers.extend(data)


def _string_series(name: str, views: pa.Buffer, valid: np.ndarray, data: list[pa.Buffer]) -> pl.Series:
    arr = pa.Array.from_buffers(pa.string_view(), len(valid), [_validity(valid), views, *data])
    return pl.from_arrow(arr).alias(name)


def _int_series(name: str, values: pa.Buffer, valid: np.ndarray) -> pl.Series:
    arr = pa.Array.from_buffers(pa.int64(), len(valid), [_validity(valid), values])
    return pl.from_arrow(arr).alias(name)


def _bool_series(name: str, values: np.ndarray) -> pl.Series:
    bits = pa.py_buffer(np.packbits(values, bitorder="little"))
    return pl.from_arrow(pa.Array.from_buffers(pa.bool_(), len(values), [None, bits])).alias(name)


def _in_chunks(n: int, first_id: int, task: Callable[[int, slice], None]) -> None:
    chunks = [slice(i, min(i + _CHUNK_ROWS, n)) for i in range(0, n, _CHUNK_ROWS)]
    ids = range(first_id, first_id + len(chunks))
    workers = min(pl.thread_pool_size(), len(chunks))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(task, ids, chunks))
    else:
        for chunk, rows in zip(ids, chunks):
            task(chunk, rows)


def _classify(raw: pl.Series, t: NumberingTables, prefix: str, *, common_shapes: bool = True) -> pl.DataFrame:
    text = _as_text(raw)
    n = len(text)
    views, _ = _views_of(text)
    out = _Out(n)

    def first_pass(chunk: int, rows: slice) -> None:
        v, messy = _fast_digits(text.slice(rows.start, rows.stop - rows.start))
        out.messy[chunk] = np.flatnonzero(messy) + rows.start
        if not common_shapes:
            _classify_rows(t, v, views[rows], out, chunk, rows)
            return
        left = np.flatnonzero(~(_classify_common(t, v, views[rows], out, rows) | messy))
        if len(left):  # the rest of this chunk, while its output rows are still in cache
            part = _Out(len(left), scratch=True)
            _classify_rows(t, v[left], views[rows][left], part, chunk, slice(0, len(left)))
            out.take_rows(left + rows.start, part)

    _in_chunks(n, 0, first_pass)
    messy_rows = np.concatenate([out.messy[k] for k in sorted(out.messy)]) if out.messy else np.zeros(0, np.int64)
    m = _messy_digits(text.gather(messy_rows)) if len(messy_rows) else None
    if m is not None:
        part = _Out(len(messy_rows), scratch=True)
        _in_chunks(
            len(messy_rows),
            max(out.messy) + 1,
            lambda chunk, rows: _classify_rows(t, m.value[rows], m.views[rows], part, chunk, rows),
        )
        out.take_rows(messy_rows, part)

    national_buffers: list[pa.Buffer] = []
    if m is not None:
        brand_rows = messy_rows[m.brand]
        out.kind[brand_rows] = _BRANDNAME
        out.national_valid[brand_rows] = True
        if len(brand_rows):
            _patch(out.national, national_buffers, brand_rows, m.names)

    last_chunk = max(out.e164_data, default=-1)
    e164_buffers = [out.e164_data.get(k, pa.py_buffer(b"")) for k in range(last_chunk + 1)]
    foreign_long = np.concatenate(list(out.foreign_long.values())) if out.foreign_long else np.zeros(0, np.int64)
    if len(foreign_long):
        _patch(out.e164_views, e164_buffers, foreign_long, "+" + pl.Series(out.e164[foreign_long]).cast(pl.String))

    return pl.DataFrame(
        [
            _string_series(f"{prefix}e164", out.buffers["e164_views"], out.e164_valid, e164_buffers),
            _int_series(f"{prefix}e164_int", out.buffers["e164"], out.e164_valid),
            _string_series(f"{prefix}national", out.buffers["national"], out.national_valid, national_buffers),
            pl.Series(f"{prefix}kind", out.kind).cat.to(NumberKind),
            _string_series(f"{prefix}prefix3", out.buffers["prefix3"], out.prefix_valid, []),
            _string_series(f"{prefix}prefix5", out.buffers["prefix5"], out.prefix_valid, []),
            _string_series(f"{prefix}carrier", out.buffers["carrier"], out.carrier_valid, list(t.carrier_buffers)),
            _bool_series(f"{prefix}legacy", out.legacy),
            _bool_series(f"{prefix}protected", out.protected),
        ]
    )


def output_schema(prefix: str) -> dict[str, pl.DataType]:
    """Names and types of the columns :func:`normalise_numbers` adds, for callers that declare schemas."""
    types: dict[str, pl.DataType] = {
        "e164": pl.String(),
        "e164_int": pl.Int64(),
        "national": pl.String(),
        "kind": NumberKind,
        "prefix3": pl.String(),
        "prefix5": pl.String(),
        "carrier": pl.String(),
        "legacy": pl.Boolean(),
        "protected": pl.Boolean(),
    }
    return {f"{prefix}{s}": types[s] for s in SUFFIXES}


def normalise_numbers(
    frame: pl.DataFrame | pl.LazyFrame, column: str, tables: NumberingTables, *, prefix: str | None = None
) -> pl.DataFrame | pl.LazyFrame:
    """Add the normalised columns ``{prefix}e164 … {prefix}protected`` (prefix defaults to ``column_``).

    Every row gets a kind; a value that is no number of any kind is ``invalid`` (never dropped), so the
    caller can record it as a reject with a reason.
    """
    pre = f"{column}_" if prefix is None else prefix
    if isinstance(frame, pl.LazyFrame):
        # Whole-column batches: per-morsel calls measured ~40 % slower (each pays the thread and buffer setup).
        packed = f"__{pre}numbers"
        batch = pl.col(column).map_batches(
            lambda s: _classify(s, tables, pre).to_struct(packed), return_dtype=pl.Struct(output_schema(pre))
        )
        return frame.with_columns(batch.alias(packed)).unnest(packed)
    if column not in frame.columns:
        raise KeyError(f"normalise_numbers: no column {column!r} (columns: {frame.columns})")
    return frame.with_columns(_classify(frame[column], tables, pre).get_columns())


def normalise_number(raw: str | None, tables: NumberingTables) -> dict[str, object]:
    """One value through the same vectorised code (a 1-row frame), keyed by suffix; kind as a string."""
    row = _classify(pl.Series("raw", [raw], dtype=pl.String), tables, "").row(0, named=True)
    return {k: row[k] for k in SUFFIXES}


def e164_int_to_national(expr: pl.Expr, tables: NumberingTables | None = None) -> pl.Expr:
    """84912345678 -> "0912345678": the national form of a VN number carried as int64 E.164 digits.

    Non-VN values and values that cannot be a VN mobile/landline E.164 give null. Without ``tables`` the
    Vietnamese plan (country code 84, NSN of 9 or 10 digits) is assumed.
    """
    cc, lengths = (84, (9, 10)) if tables is None else (tables.country_code, (tables.mobile_len, tables.landline_len))
    result = pl.lit(None, dtype=pl.String)
    for n in sorted(set(lengths), reverse=True):
        base = cc * 10**n
        nsn = expr - base
        result = pl.when((expr >= base + 10 ** (n - 1)) & (expr < base + 10**n)).then(
            nsn.cast(pl.String).str.zfill(n + 1)
        ).otherwise(result)
    return result


# ---------------------------------------------------------------------------------------------------------
# The oracle.

_ORACLE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline",
    phonenumbers.PhoneNumberType.VOIP: "landline",
    phonenumbers.PhoneNumberType.UAN: "landline",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium",
}


def oracle(raw: str | None) -> tuple[bool, str | None, str]:
    """phonenumbers' view of one value: (valid, E.164, kind in KINDS), parsed as dialled in Vietnam.

    Types without a counterpart in KINDS map to the nearest (VoIP, UAN -> landline); a string that is no
    full number but a valid Vietnamese short number (113-115 …) is a short code; anything else invalid.
    Row by row and ~20 µs a value: for tests and the small messy side, never for CDR columns.
    """
    if raw is None:
        return False, None, "invalid"
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return False, None, "invalid"
    if phonenumbers.is_valid_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.region_code_for_number(number) != "VN":
            return True, e164, "international"
        return True, e164, _ORACLE_TYPES.get(phonenumbers.number_type(number), "landline")
    if number.country_code == 84 and shortnumberinfo.is_valid_short_number_for_region(number, "VN"):
        return True, None, "short_code"
    return False, None, "invalid"
