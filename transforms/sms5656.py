"""Texts citizens send to short code 5656 → complaints, Do-Not-Call registrations and rejects.

The official syntax (Circular 22/2021) is ``V [source][content]`` for a call and ``S [source][content]``
for an SMS, plus ``DK DNC …`` / ``HUY DNC …``. Real texts are looser: no brackets, round brackets, no
space after the letter, lowercase, punctuation after the letter, numbers typed with spaces, dots or
dashes, ``+84``/``84``/``0084``, old 11-digit numbers, full-width digits from phone keyboards, a
brandname or short code as the source, and a ``gửi 5656`` trailer copied from the instructions.

Everything here is whole-column polars work, in stages: clean → strip the trailer → DNC? → command
letter → source (bracketed, number, or word) → classify through the numbering core → category. There is
no per-row Python path: the forms that need care (spaced numbers that run into digits of the content,
a bracket holding the whole message, an unclosed bracket) are handled by extra regex stages, and
whatever still does not fit is rejected with a reason code — a text is never guessed at.

Content is attacker-controlled data. It is kept verbatim except that: line breaks become ``\\n``; C0/C1
control characters other than tab and newline, bidirectional overrides (U+202A–U+202E, U+2066–U+2069,
U+200E/U+200F) and invisible U+200B/U+2060/U+FEFF are removed (they hide or reorder text on a reviewer's
screen); the text is NFC-normalised; it is cut to ``categories.content.max_chars``. Emoji, markup,
formula-looking text and quotes are kept: escaping is the job of each output writer.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from transforms.config import Settings, fold_label
from transforms.numbers import NumberingTables, normalise_numbers, output_schema
from transforms.readers import empty_rejects, reject_rows, render_raw
from transforms.timestamps import UTC_DTYPE, parse_timestamps

REPORT_REQUIRED = ["received_at", "reporter", "message"]
REPORT_OPTIONAL = ["report_id"]

_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
_TRAILER = (
    r"(?i)[\s,.;:\-]*\b(?:g[uưúùủũụứừửữựởơ]i|g[oóòỏõọởờ]i|gởi|send)\s*"
    r"(?:(?:đến|den|tới|toi|to|về|ve)\s*)?(?:(?:đầu số|dau so|số|so)\s*)?5656[\s.!]*$"
)
_DNC = r"(?is)^(đăng ký|đăng kí|dang ky|dang ki|đk|dk|hủy|huỷ|huy)\s*dnc\b[\s:,.\-]*(.*)$"
_COMMAND = r"(?s)^([VvSsＶｖＳｓ])([\s:.,;\-]*)(.*)$"
_OPEN = "[\\[(（［【{]"
_CLOSE = "[\\])）］】}]"
_BRACKET = r"(?s)^" + _OPEN + r"\s*([^\])）］】}\n]*?)\s*" + _CLOSE + r"[\s:,;\-]*(.*)$"
_D = "[0-9０-９]"
_SEP = r"([ .\-\u3000]{1,2})"
# After a bracketed area code the separator may be missing ("(028)38234567"); after digits it may not,
# and cannot be: the first group takes every digit.
_SEP_AFTER_FIRST = r"([ .\-\u3000]{0,2})"
_NUMBER = (
    r"^((?:[+＋]?" + _D + r"+)|(?:[(（]" + _D + r"{2,4}[)）]))"
    + "".join("(?:" + (_SEP if i else _SEP_AFTER_FIRST) + "(" + _D + "+)" for i in range(5))
    + ")?" * 5
)
_AREA_BRACKET = r"^[(（][0０][0-9０-９]{1,3}[)）][ .\-\u3000]{0,2}[0-9０-９]"
_CLEAN_SOURCE = r"^(?:[+＋]?[0-9０-９ .\-()（）]+|[A-Za-z0-9Ａ-Ｚａ-ｚ０-９][A-Za-z0-9Ａ-Ｚａ-ｚ０-９ ._\-]{0,10})$"
_STARTS_NUMBER = "^[0-9０-９+＋]"
_TOKEN = r"(?s)^([^\s\[\](){}<>,:;（）［］【】]+)[\s:,;\-]*(.*)$"
_BRAND = r"^[A-Za-z0-9][A-Za-z0-9._\-]{1,10}$"
_LEAD_PUNCT = r"^[\s:;,.\-–—]+"
_FULLWIDTH = [chr(0xFF10 + i) for i in range(10)]
_ASCII = [str(i) for i in range(10)]
_GROUPS = 6


@dataclass(frozen=True)
class Parsed5656:
    complaints: pl.DataFrame
    dnc: pl.DataFrame
    rejects: pl.DataFrame


def clean_text(text: pl.Expr) -> pl.Expr:
    """Line breaks unified, invisible/control characters removed, NFC, outer whitespace trimmed."""
    return (
        text.str.replace_all("\r\n", "\n", literal=True)
        .str.replace_all("\r", "\n", literal=True)
        .str.replace_all(_CONTROL, "")
        .str.normalize("NFC")
        .str.strip_chars()
    )


def fold_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`transforms.config.fold_label` (lowercase, no diacritics, words by single spaces)."""
    return (
        text.str.replace_all("[đĐ]", "d")
        .str.normalize("NFD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^0-9a-z]+", " ")
        .str.strip_chars()
    )


def categorise(content: pl.Series, kind: pl.Series, settings: Settings) -> pl.Series:
    """First configured category whose keywords occur (whole words, folded) in the content; else ``other``.

    Folded text is only ``[0-9a-z]`` words separated by single spaces, so a whole-word match is a plain
    substring search for `` keyword `` in `` text `` (Aho–Corasick over all keywords of a category).
    """
    frame = pl.DataFrame({"c": content, "k": kind}).select(
        f=pl.lit(" ") + fold_expr(pl.col("c").fill_null("")) + pl.lit(" "), k=pl.col("k")
    )
    chain: pl.Expr | None = None
    for cat in settings.categories.category:
        words = sorted({f" {fold_label(k)} " for k in cat.keywords})
        if not words:
            continue
        hit = pl.col("f").str.contains_any(words) & pl.col("k").is_in(list(cat.kinds))
        chain = pl.when(hit).then(pl.lit(cat.name)) if chain is None else chain.when(hit).then(pl.lit(cat.name))
    result = pl.lit("other") if chain is None else chain.otherwise(pl.lit("other"))
    return frame.select(result.alias("category")).to_series()


def _digits(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(_FULLWIDTH, _ASCII).str.replace_all(r"[^0-9]", "")


@dataclass(frozen=True)
class _Shapes:
    """Digit counts of complete Vietnamese numbers, from ``config/numbering.toml`` and ``carriers.toml``."""

    cc: str
    short: int  # national length of a mobile number with its trunk 0
    long: int  # … of a landline or an old 11-digit mobile
    long_leads: list[str]  # digit after the trunk 0 that announces the long form (landline 2x, legacy 01x)
    nsn_leads: list[str]  # first digit of a mobile NSN typed without the trunk 0
    service_prefixes: list[str]
    short_code: tuple[int, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> "_Shapes":
        n = settings.numbering
        return cls(
            cc=n.country_code,
            short=n.mobile_nsn_length + 1,
            long=n.landline_nsn_length + 1,
            long_leads=sorted({k[1] for k in n.legacy} | {a[0] for a in n.landline.area_codes}),
            nsn_leads=sorted({p[1] for c in settings.carriers for p in c.prefixes}),
            service_prefixes=[n.service.toll_free_prefix, n.service.premium_prefix],
            short_code=(n.service.short_code_min_length, n.service.short_code_max_length),
        )


# 1800/1900 numbers have 4 or 6 digits after the prefix.
_SERVICE_LENGTHS = [8, 10]


def _complete(j: pl.Expr, plus: pl.Expr, shapes: _Shapes) -> pl.Expr:
    """Does this digit string have exactly the length a Vietnamese number of its shape needs?"""
    n = j.str.len_chars()
    cc = shapes.cc

    def length_after(offset: int) -> pl.Expr:
        lead = j.str.slice(offset, 1).is_in(shapes.long_leads)
        return pl.when(lead).then(offset + shapes.long - 1).otherwise(offset + shapes.short - 1)

    idd = j.str.starts_with("00" + cc) & (n == length_after(2 + len(cc)))
    intl = j.str.starts_with(cc) & (n == length_after(len(cc)))
    trunk = j.str.starts_with("0") & ~j.str.starts_with("00") & (n == length_after(1))
    service = pl.any_horizontal([j.str.starts_with(p) for p in shapes.service_prefixes]) & n.is_in(_SERVICE_LENGTHS)
    nsn = j.str.slice(0, 1).is_in(shapes.nsn_leads) & (n == shapes.short - 1) & ~plus
    return (idd | intl | trunk | service | nsn).fill_null(False)


def _with_number_source(frame: pl.DataFrame, column: str, shapes: _Shapes) -> pl.DataFrame:
    """Add ``num`` (the source as typed) and ``num_span`` (characters it covers) from ``column``.

    A number may be typed in up to six groups separated by spaces, dots or dashes; see
    :func:`_choose_reading` for where it ends. A single group needs no choice, so only texts with
    several groups pay for the rule.
    """
    m = pl.col("_m")
    groups = [f"_g{i}" for i in range(_GROUPS)]
    seps = [f"_s{i}" for i in range(1, _GROUPS)]
    parts = frame.select(_m=pl.col(column).str.extract_groups(_NUMBER)).select(
        [m.struct.field(str(2 * i + 1)).alias(groups[i]) for i in range(_GROUPS)]
        + [m.struct.field(str(2 * i)).alias(seps[i - 1]) for i in range(1, _GROUPS)]
    )
    num = parts["_g0"].alias("num")
    multi = parts["_g1"].is_not_null()
    if multi.any():
        num = num.scatter(multi.arg_true(), _choose_reading(parts.filter(multi), shapes))
    return frame.with_columns(num, num.str.len_chars().alias("num_span"))


def _choose_reading(parts: pl.DataFrame, shapes: _Shapes) -> pl.Series:
    """The groups that make the number: the longest prefix whose digits are a complete number.

    Complete means the length a Vietnamese number of that shape has (10 digits after a trunk 0, 11 for
    legacy mobiles and landlines, 11/12 after 84, …), so ``0912 345 678 5 cuộc`` keeps ``5 cuộc`` as
    content and ``84 292 3899 588`` is one landline. When no prefix is complete, a 3–6 digit first group
    is a short code; otherwise every group is taken and the numbering core will call the result invalid
    — a visible reject, not a guess.
    """
    raws = [f"_r{i}" for i in range(_GROUPS)]
    digits = [f"_d{i}" for i in range(_GROUPS)]
    parts = parts.with_columns(
        [pl.col("_g0").alias(raws[0])]
        + [pl.concat_str(_joined(i)).alias(raws[i]) for i in range(1, _GROUPS)]
        + [_digits(pl.col(f"_g{i}")).alias(f"_x{i}") for i in range(_GROUPS)]
    ).with_columns(pl.concat_str([pl.col(f"_x{k}") for k in range(i + 1)]).alias(digits[i]) for i in range(_GROUPS))
    plus = pl.col("_g0").str.contains("^[+＋]")
    short = (
        pl.col("_x0").str.len_chars().is_between(*shapes.short_code)
        & ~pl.col("_x0").str.starts_with("0")
        & ~pl.col("_g0").str.contains("[+＋(（]")
    )
    longest_first = list(zip(reversed(digits), reversed(raws)))
    chosen: pl.Expr = pl.when(_complete(pl.col(longest_first[0][0]), plus, shapes)).then(pl.col(longest_first[0][1]))
    for d, r in longest_first[1:]:
        chosen = chosen.when(_complete(pl.col(d), plus, shapes)).then(pl.col(r))
    chosen = chosen.when(short).then(pl.col("_g0")).otherwise(pl.coalesce([pl.col(r) for r in reversed(raws)]))
    return parts.select(chosen.alias("num")).to_series()


def _joined(i: int) -> list[pl.Expr]:
    """g0 s1 g1 … s_i g_i, null unless every part is present."""
    parts: list[pl.Expr] = [pl.col("_g0")]
    for k in range(1, i + 1):
        parts += [pl.col(f"_s{k}"), pl.col(f"_g{k}")]
    return parts


def _strip_brackets(content: pl.Expr) -> pl.Expr:
    wrapped = content.str.contains(r"(?s)^" + _OPEN + r".*" + _CLOSE + r"$")
    return pl.when(wrapped).then(content.str.slice(1, content.str.len_chars() - 2).str.strip_chars()).otherwise(content)


def _split_source(frame: pl.DataFrame, shapes: _Shapes) -> pl.DataFrame:
    """From ``rest`` (text after the command letter): ``src``, ``content``, ``src_form`` (number|bracket|word)."""
    rest = pl.col("rest")
    frame = frame.with_columns(
        _b=rest.str.extract_groups(_BRACKET),
        _area=rest.str.contains(_AREA_BRACKET).fill_null(False),
        _open=rest.str.contains("^" + _OPEN).fill_null(False),
    ).with_columns(_bsrc=pl.col("_b").struct.field("1"), _brest=pl.col("_b").struct.field("2"))
    b_src, b_rest = pl.col("_bsrc"), pl.col("_brest")
    # A bracket holding more than a source ("[0912345678 lừa đảo]") or never closed is read as if unbracketed.
    frame = frame.with_columns(
        bracketed=b_src.str.contains(_CLEAN_SOURCE).fill_null(False) & ~pl.col("_area")
    ).with_columns(
        rest2=pl.when(pl.col("bracketed"))
        .then(None)
        .when(b_src.str.contains(_STARTS_NUMBER) & ~pl.col("_area"))
        .then(pl.concat_str([b_src, pl.lit(" "), b_rest]))
        .when(b_src.is_not_null() & ~pl.col("_area"))
        .then(None)
        .when(pl.col("_open") & ~pl.col("_area"))
        .then(rest.str.slice(1).str.strip_chars_start())
        .otherwise(rest),
    )
    frame = _with_number_source(frame, "rest2", shapes).with_columns(_t=pl.col("rest2").str.extract_groups(_TOKEN))
    is_num = pl.col("num").is_not_null()
    token, token_rest = pl.col("_t").struct.field("1"), pl.col("_t").struct.field("2")
    return frame.with_columns(
        src_form=pl.when(pl.col("bracketed")).then(pl.lit("bracket")).when(is_num).then(pl.lit("number"))
        .when(token.is_not_null()).then(pl.lit("word")).otherwise(None),
        src=pl.when(pl.col("bracketed")).then(b_src).when(is_num).then(pl.col("num")).otherwise(token),
        content=_strip_brackets(
            pl.when(pl.col("bracketed")).then(b_rest)
            .when(is_num).then(pl.col("rest2").str.slice(pl.col("num_span")).str.replace(_LEAD_PUNCT, ""))
            .otherwise(token_rest)
            .str.strip_chars()
        ),
    ).drop("_b", "_area", "_open", "_bsrc", "_brest", "rest2", "num", "num_span", "_t")


def derive_ids(received_at: pl.Series, reporter: pl.Series, message: pl.Series) -> pl.Series:
    """``5656-`` + 12 hex of sha256 over the raw (received_at, reporter, message) of the record.

    Derived from what the citizen sent, not from the file it came in, so a re-delivered or corrected file
    gives the same id to every unchanged message and staging can recognise it. Polars has no
    cryptographic hash; DuckDB's runs over the whole column (an expression, no SQL text).
    """
    sep = "\x1f"
    keys = pl.DataFrame({"k": received_at.fill_null("") + sep + reporter.fill_null("") + sep + message.fill_null("")})
    digest = duckdb.FunctionExpression(
        "left", duckdb.FunctionExpression("sha256", duckdb.ColumnExpression("k")), duckdb.ConstantExpression(12)
    )
    con = duckdb.connect()
    try:
        hexes = con.from_arrow(keys.to_arrow()).select(digest.alias("h")).pl()["h"]
    finally:
        con.close()
    return ("5656-" + hexes).alias("complaint_id")


def cap_text(text: pl.Expr, max_chars: int) -> pl.Expr:
    """Empty → null; longer than ``max_chars`` → cut, with a trailing ellipsis so a reader sees the cut."""
    cut = pl.when(text.str.len_chars() > max_chars).then(text.str.slice(0, max_chars) + pl.lit("…")).otherwise(text)
    return pl.when(text.str.len_chars() > 0).then(cut)


def _checks() -> list[tuple[pl.Expr, str, pl.Expr]]:
    """(condition, reason, detail) in a fixed priority: the first problem found is the one reported.

    Conditions read the helper columns added in :func:`parse_5656` (``_src``: the source NFKC-folded so
    full-width letters count as letters).
    """
    src = pl.col("_src")
    is_complaint = pl.col("action").is_null()
    word = pl.col("src_form") == "word"
    has_letter = src.str.contains("[A-Za-z]")
    capital_brand = src.str.contains(_BRAND) & has_letter & ~src.str.contains("[a-z]")
    head = pl.col("msg").str.slice(0, 60)
    call_needs_number = pl.format("column message: a call report needs the calling number as source; got '{}'", src)
    return [
        (
            pl.col("received_at").is_null(),
            "bad_timestamp",
            pl.format(
                "column received_at: expected a date-time such as 2024-03-05 09:15:00, 2024-03-05T09:15:00+07:00 "
                "or 05/03/2024 09:15; got '{}'",
                pl.col("received_at_text").fill_null(""),
            ),
        ),
        (
            pl.col("reporter_kind").cast(pl.String).fill_null("invalid") != "mobile",
            "bad_reporter",
            pl.format(
                "column reporter: expected the sender's mobile number; got '{}' ({})",
                pl.col("reporter_raw").fill_null(""),
                pl.col("reporter_kind").cast(pl.String).fill_null("empty"),
            ),
        ),
        (pl.col("msg") == "", "empty", pl.lit("column message: the text is empty")),
        (
            is_complaint & ~pl.col("kind_ok"),
            "unknown_command",
            pl.format("column message: expected V, S, DK DNC or HUY DNC at the start; got '{}'", head),
        ),
        (
            is_complaint & (src == ""),
            "no_source",
            pl.format("column message: no source number or brandname after the command letter: '{}'", head),
        ),
        (is_complaint & (pl.col("kind") == "call") & has_letter & (pl.col("src_form") != "number"), "no_source", call_needs_number),
        (
            is_complaint & word & capital_brand & ~pl.col("_plain_case"),
            "ambiguous_source",
            pl.format(
                "column message: '{}' may be a brandname or the first word of an all-capitals text; "
                "write the source in brackets, e.g. S [VCB] …",
                src,
            ),
        ),
        (
            is_complaint & word & ~capital_brand,
            "no_source",
            pl.format(
                "column message: first word '{}' is not a number; a brandname must be in capitals or in brackets, "
                "e.g. S [Vietcombank] …",
                src,
            ),
        ),
        (
            is_complaint & (pl.col("reported_kind").cast(pl.String).fill_null("invalid") == "invalid"),
            "invalid_number",
            pl.format("column message: source '{}' is not a valid number, short code or brandname", src),
        ),
        (is_complaint & (pl.col("kind") == "call") & (pl.col("reported_kind").cast(pl.String) == "brandname"), "no_source", call_needs_number),
    ]


def _first(pairs: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    chain = pl.when(pairs[0][0]).then(pairs[0][1])
    for cond, value in pairs[1:]:
        chain = chain.when(cond).then(value)
    return chain.otherwise(None)


def parse_5656(records: pl.DataFrame, tables: NumberingTables, settings: Settings, source_sha256: str) -> Parsed5656:
    """Split one file's records into complaints, DNC registrations and rejects (every record lands in one).

    ``complaint_id`` is ``report_id`` when the file has one, else ``5656-`` + the first 12 hex digits of
    sha256(source_sha256 + str(source_line)) — stable across re-runs of the same file.
    """
    max_chars = settings.categories.content.max_chars
    report_id = pl.col("report_id") if "report_id" in records.columns else pl.lit(None, dtype=pl.String)
    frame = records.with_columns(
        received_at_text=pl.col("received_at"),
        report_id_text=report_id,
        reporter_raw=pl.col("reporter").str.strip_chars(),
        msg=clean_text(pl.col("message").fill_null("")),
    ).with_columns(received_at=parse_timestamps(records["received_at"], settings.run.timezone))
    frame = frame.with_columns(body=pl.col("msg").str.replace(_TRAILER, ""))
    frame = frame.with_columns(dnc=pl.col("body").str.extract_groups(_DNC), cmd=pl.col("body").str.extract_groups(_COMMAND))

    verb = pl.col("dnc").struct.field("1")
    letter = pl.col("cmd").struct.field("1").str.replace_many(["Ｖ", "ｖ", "Ｓ", "ｓ"], ["V", "V", "S", "S"]).str.to_uppercase()
    sep, rest = pl.col("cmd").struct.field("2"), pl.col("cmd").struct.field("3")
    kind_ok = letter.is_not_null() & ((sep != "") | (rest == "") | rest.str.contains("^(?:" + _OPEN + "|[0-9０-９+＋])"))
    frame = frame.with_columns(
        action=pl.when(verb.is_null()).then(None).when(fold_expr(verb).str.starts_with("h")).then(pl.lit("cancel"))
        .otherwise(pl.lit("register")),
        dnc_detail=pl.col("dnc").struct.field("2").str.strip_chars(),
        kind_ok=kind_ok.fill_null(False),
    ).with_columns(
        kind=pl.when(pl.col("action").is_null() & pl.col("kind_ok"))
        .then(pl.when(letter == "V").then(pl.lit("call")).otherwise(pl.lit("sms"))),
        rest=pl.when(pl.col("action").is_null() & pl.col("kind_ok")).then(rest.str.strip_chars()),
    ).drop("dnc", "cmd", "body")
    frame = _split_source(frame, _Shapes.from_settings(settings)).with_columns(
        reported_raw=pl.when(pl.col("kind").is_not_null()).then(pl.col("src")),
        content=cap_text(pl.col("content").fill_null("").str.strip_chars(), max_chars),
    )
    frame = normalise_numbers(frame, "reporter_raw", tables, prefix="reporter_")
    frame = normalise_numbers(frame, "reported_raw", tables, prefix="reported_")
    frame = frame.with_columns(
        _src=pl.col("src").fill_null("").str.normalize("NFKC"),
        _plain_case=pl.col("content").str.contains(r"\p{Ll}").fill_null(True) | pl.col("src").str.contains("[0-9０-９]"),
    )
    checks = _checks()
    frame = frame.with_columns(reason=_first([(cond, pl.lit(code)) for cond, code, _ in checks]))

    is_complaint = pl.col("reason").is_null() & pl.col("action").is_null()
    report_ids = frame["report_id_text"].str.strip_chars()
    needs_id = frame.select(is_complaint & report_ids.is_null()).to_series()
    complaint_id = report_ids.alias("complaint_id")
    if needs_id.any():
        complaint_id = complaint_id.scatter(needs_id.arg_true(), derive_ids(*(records.filter(needs_id)[c] for c in ("received_at", "reporter", "message"))))
    frame = frame.with_columns(complaint_id)
    dup = is_complaint & ~pl.col("complaint_id").is_first_distinct().over(is_complaint)
    frame = frame.with_columns(reason=pl.when(dup).then(pl.lit("duplicate_id")).otherwise(pl.col("reason")))

    reporter_cols, reported_cols = list(output_schema("reporter_")), list(output_schema("reported_"))
    complaints = frame.filter(pl.col("reason").is_null() & pl.col("action").is_null()).select(
        pl.col("complaint_id"),
        pl.lit("sms5656").alias("channel"),
        pl.col("received_at"),
        pl.lit(None, dtype=UTC_DTYPE).alias("occurred_at"),
        pl.col("reporter_raw"),
        *reporter_cols,
        pl.col("reported_raw"),
        *reported_cols,
        pl.col("kind"),
        pl.lit("other").alias("category"),
        pl.col("content"),
        pl.col("source_file"),
        pl.col("source_line"),
    )
    complaints = complaints.with_columns(categorise(complaints["content"], complaints["kind"], settings))
    dnc = frame.filter(pl.col("reason").is_null() & pl.col("action").is_not_null()).select(
        "received_at",
        "reporter_raw",
        "reporter_e164",
        "action",
        cap_text(pl.col("dnc_detail").fill_null(""), max_chars).alias("detail"),
        "source_file",
        "source_line",
    )
    rejected = frame.filter(pl.col("reason").is_not_null())
    details = [(pl.col("reason") == "duplicate_id", pl.format("column report_id: '{}' already appeared earlier in this file", pl.col("complaint_id")))]
    details += [(cond, text) for cond, _, text in checks]
    raw = render_raw(
        [pl.col("received_at_text").alias("received_at"), "reporter", "message"]
        + (["report_id"] if "report_id" in records.columns else [])
    )
    rejects = reject_rows(rejected, raw, pl.col("reason"), _first(details)) if rejected.height else empty_rejects()
    return Parsed5656(complaints=complaints, dnc=dnc, rejects=rejects)
