"""What citizens, authorities and the carrier say about numbers: 5656 texts, complaints, requests, decisions.

Reports start from *intents* (who reports whom, about which event) and only then get a surface form, so
the truth can say what every messy message really means. Victims of a scammer report a call they really
received (the report comes minutes to hours after it); a minority of reports have no CDR evidence
(someone passed the number on, revenge reports, spoofed caller IDs).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from transforms.config import Settings
from transforms.simulate_cdr import local_time
from transforms.simulate_people import POP, People

# (with diacritics, without) — the NFD and upper-case variants are derived.
CONTENT: dict[str, list[tuple[str, str]]] = {
    "scam_call": [
        ("giả danh công an", "gia danh cong an"),
        ("lừa đảo", "lua dao"),
        ("mạo danh Giám đốc Sở TT&TT yêu cầu chuyển tiền", "mao danh Giam doc So TTTT yeu cau chuyen tien"),
        ("gọi đe dọa khóa thuê bao trong 2 giờ", "goi de doa khoa thue bao trong 2 gio"),
        ("giả danh nhân viên ngân hàng hỏi mã OTP", "gia danh nhan vien ngan hang hoi ma OTP"),
        ("nói tôi liên quan đường dây rửa tiền, bắt chuyển tiền", "noi toi lien quan duong day rua tien, bat chuyen tien"),
        ("giả danh bưu điện, bưu phẩm bị giữ", "gia danh buu dien, buu pham bi giu"),
        ("báo trúng thưởng yêu cầu nộp phí", "bao trung thuong yeu cau nop phi"),
    ],
    "scam_sms": [
        ("Tài khoản của bạn bị khóa, đăng nhập vcb-xacminh.com", "Tai khoan cua ban bi khoa, dang nhap vcb-xacminh.com"),
        ("Bạn có bưu phẩm chưa nhận, bấm link để xác nhận", "Ban co buu pham chua nhan, bam link de xac nhan"),
    ],
    "spam_sms": [
        ("Vay tiền nhanh không thế chấp, giải ngân trong 30 phút", "Vay tien nhanh khong the chap, giai ngan trong 30 phut"),
        ("Quý khách được tặng 5 triệu, truy cập bit.ly/qua-tang", "Quy khach duoc tang 5 trieu, truy cap bit.ly/qua-tang"),
        ("Tuyển cộng tác viên online, lương 500k/ngày", "Tuyen cong tac vien online, luong 500k/ngay"),
    ],
    "benign": [
        ("gọi quảng cáo làm phiền", "goi quang cao lam phien"),
        ("gọi nhiều lần trong ngày", "goi nhieu lan trong ngay"),
        ("cuộc gọi rác", "cuoc goi rac"),
    ],
    "revenge": [("lừa đảo", "lua dao"), ("quấy rối", "quay roi"), ("đe dọa tôi", "de doa toi")],
    "spoof": [
        ("giả danh công an yêu cầu chuyển tiền", "gia danh cong an yeu cau chuyen tien"),
        ("mạo danh Thanh tra Sở TT&TT Cần Thơ", "mao danh Thanh tra So TTTT Can Tho"),
        ("nói là trực ban hình sự, đòi chuyển tiền", "noi la truc ban hinh su, doi chuyen tien"),
    ],
    "brand": [
        ("Tài khoản bị khóa, xác minh tại vcb-secure.com", "Tai khoan bi khoa, xac minh tai vcb-secure.com"),
        ("Quý khách trúng thưởng, nhận quà tại link", "Quy khach trung thuong, nhan qua tai link"),
    ],
    "shortcode": [("tin nhắn rác quảng cáo", "tin nhan rac quang cao"), ("trừ tiền không rõ lý do", "tru tien khong ro ly do")],
    "premium": [("gọi mời vay tiền, bắt gọi lại đầu số 1900", "goi moi vay tien, bat goi lai dau so 1900")],
}
BRANDNAMES = ["VIETCOMBANK", "VCB", "BIDV", "TECHCOMBANK", "SHOPEE", "VNPOST"]
SHORT_CODES = [("8077", "short_code", "sms", "shortcode"), ("9029", "short_code", "sms", "shortcode"),
               ("6020", "short_code", "sms", "shortcode"), ("19006868", "premium", "call", "premium")]
DNC_MESSAGES = [("DK DNC", "dnc_register"), ("dk dnc", "dnc_register"), ("DK DNC 1 2 3", "dnc_register"),
                ("DK  DNC", "dnc_register"), ("HUY DNC", "dnc_cancel"), ("Huy DNC 1", "dnc_cancel"),
                ("huy dnc", "dnc_cancel")]
GARBAGE = ["", "hello", "V", "S", "alo", "?", "V []", "Test 123", "5656", "cho hoi cach phan anh cuoc goi"]
NUMBER_FORMS = ("national", "dots", "spaces", "dashes", "plus84", "cc84", "idd0084", "plus84_spaced",
                "legacy11", "fullwidth", "bare")
_FORM_W = np.array([.30, .07, .08, .05, .10, .10, .04, .05, .10, .04, .03]) / .96
TEMPLATES = ("brackets", "brackets_spaced", "parens", "plain", "parens_number", "no_space", "many_spaces",
             "number_only")
_TEMPLATE_W = [.22, .12, .10, .20, .10, .08, .08, .10]
_COMPLAINT_FORMS = (0, 1, 2, 4, 7)  # hotline/web/app staff type numbers more tidily than citizens do
CONTENT_VARIANTS = ("nfc", "ascii", "nfd", "ascii_upper")
_TRAILERS = ["", " gui 5656", " gửi 5656", " GUI 5656"]
CHANNELS = ("hotline", "web", "app", "police")
_CATEGORY = {"scam_call": ["impersonation", "fraud"], "scam_sms": ["fraud"], "spam_sms": ["spam_sms"],
             "benign": ["spam_call", "spam_call", "harassment"], "revenge": ["harassment", "fraud", "other"],
             "spoof": ["impersonation"], "brand": ["fraud"], "shortcode": ["spam_sms"],
             "premium": ["spam_call"]}
CATEGORY_SYNONYMS = {"fraud": "lừa đảo", "impersonation": "giả danh", "spam_call": "cuộc gọi rác",
                     "spam_sms": "tin nhắn rác", "harassment": "quấy rối", "other": "khác"}
UNKNOWN_CATEGORY = "khiếu nại cước"
_FULLWIDTH = [chr(0xFF10 + i) for i in range(10)]


@dataclass
class Reports:
    intents: pl.DataFrame     # one row per message/complaint, with its true meaning
    reports_5656: pl.DataFrame
    complaints: pl.DataFrame


def _daytime(rng: np.random.Generator, lo_day: np.ndarray, days: int) -> np.ndarray:
    lo = np.clip(lo_day, 0, days - 1)
    day = lo + (rng.random(lo.size) * (days - lo)).astype(np.int64)
    return day * 86400 + rng.integers(7 * 3600, 22 * 3600, lo.size)


def _intent_frame(cls: str | pl.Series, intent: str | pl.Series, target_kind: str, target_idx: np.ndarray,
                  target_text: pl.Series, reporter: np.ndarray, t_event: np.ndarray | None,
                  t_report: np.ndarray) -> pl.DataFrame:
    n = len(reporter)
    return pl.DataFrame({
        "cls": cls if isinstance(cls, pl.Series) else pl.repeat(cls, n, eager=True),
        "intent": intent if isinstance(intent, pl.Series) else pl.repeat(intent, n, eager=True),
        "target_kind": pl.repeat(target_kind, n, eager=True),
        "target_idx": np.asarray(target_idx, dtype=np.int64),
        "target_text": target_text,
        "reporter_idx": np.asarray(reporter, dtype=np.int64),
        "t_event": pl.Series(t_event, dtype=pl.Int64) if t_event is not None else pl.repeat(None, n, dtype=pl.Int64,
                                                                                            eager=True),
        "t_report": np.asarray(t_report, dtype=np.int64),
    }, schema_overrides={"target_text": pl.String, "cls": pl.String, "intent": pl.String})


def _report_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.clip(rng.lognormal(np.log(2700), 1.0, n), 180, 36000).astype(np.int64)


def _cdr_intents(rng: np.random.Generator, p: People, events: pl.DataFrame, cleared: int) -> pl.DataFrame:
    """Reports by people who really got a call/SMS from the number (corroborated by the CDRs)."""
    q = np.zeros(p.n, dtype=np.int64)
    for name, base, extra in (("scammer", 2, 3), ("ported_scammer", 4, 2), ("spam_sms", 2, 2)):
        m = p.members(name)
        q[m] = base + rng.poisson(extra, m.size)
    heavy = p.members("shipper", "taxi_dispatch", "call_centre")
    q[heavy] = rng.random(heavy.size) < 0.12
    q[cleared] = 1
    pairs = (events.filter((pl.col("b") >= 0) & pl.col("a").is_in(np.flatnonzero(q > 0)))
             .group_by("a", "b").agg(pl.col("t").min(), (pl.col("dur") > 0).any().alias("answered"),
                                     pl.col("sms").sort_by("t").first())
             .sort("a", "b"))
    pairs = pairs.with_columns(pl.Series("key", rng.random(pairs.height)) - pl.col("answered").cast(pl.Float64) * 0.4)
    pairs = pairs.sort("a", "key")
    pairs = pairs.with_columns(pl.int_range(pl.len()).over("a").alias("rank"),
                               pl.Series("quota", q[pairs["a"].to_numpy()])).filter(pl.col("rank") < pl.col("quota"))
    a = pairs["a"].to_numpy()
    pop = p.pop[a]
    heavy_pop = np.isin(pop, [POP[x] for x in ("shipper", "taxi_dispatch", "call_centre")])
    sms = pairs["sms"].to_numpy()
    cls = np.where(heavy_pop, "benign",
                   np.where(pop == POP["spam_sms"], "spam_sms", np.where(sms, "scam_sms", "scam_call")))
    t = pairs["t"].to_numpy()
    return _intent_frame(pl.Series(cls), pl.Series(np.where(sms, "sms", "call")), "mobile", a,
                         pl.Series(p.nsn[a]).cast(pl.String), pairs["b"].to_numpy(), t, t + _report_delay(rng, a.size))


def _uncorroborated(rng: np.random.Generator, p: People, events: pl.DataFrame, reporters: np.ndarray,
                    days: int) -> pl.DataFrame:
    """Reports with no CDR contact: hearsay about scammers, and revenge reports against ordinary people."""
    scam = p.members("scammer")
    scam = scam[rng.random(scam.size) < 0.25]
    revenge = p.members("revenge_target")
    revenge = np.repeat(revenge, 1 + (rng.random(revenge.size) < 0.5))
    targets = np.r_[scam, revenge]
    cls = np.r_[np.full(scam.size, "scam_call"), np.full(revenge.size, "revenge")]
    who = reporters[rng.integers(0, reporters.size, targets.size)]
    frame = _intent_frame(pl.Series(cls), "call", "mobile", targets, pl.Series(p.nsn[targets]).cast(pl.String),
                          who, None, _daytime(rng, p.activated[targets], days))
    near = events.filter(pl.col("a").is_in(targets) | pl.col("b").is_in(targets))
    talked = pl.concat([near.select("a", "b"), near.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    talked = talked.with_columns(pl.col("a").cast(pl.Int64), pl.col("b").cast(pl.Int64)).unique()
    return frame.join(talked, left_on=["target_idx", "reporter_idx"], right_on=["a", "b"], how="anti",
                      maintain_order="left").unique(["target_idx", "reporter_idx"], maintain_order=True)


def _other_intents(rng: np.random.Generator, settings: Settings, reporters: np.ndarray, total: int,
                   days: int) -> pl.DataFrame:
    """Spoofed protected numbers, brandname and short-code senders, DNC requests and garbage."""

    def frame(cls: str | pl.Series, intent: str | pl.Series, kind: str, texts: np.ndarray) -> pl.DataFrame:
        n = texts.size
        return _intent_frame(cls, intent, kind, np.full(n, -1), pl.Series(texts, dtype=pl.String),
                             reporters[rng.integers(0, reporters.size, n)], None,
                             _daytime(rng, np.zeros(n, dtype=np.int64), days))

    protected = np.array([x.number[1:] for x in settings.protected.numbers])
    n = max(4, total // 3000)
    w = np.arange(protected.size, 0, -1, dtype=float)
    pick = rng.choice(protected.size, n, p=w / w.sum())
    pick[: min(2, n)] = np.arange(min(2, n, protected.size))
    frames = [frame("spoof", "call", "protected", protected[pick]),
              frame("brand", "sms", "brandname",
                    np.array(BRANDNAMES)[rng.integers(0, len(BRANDNAMES), max(3, total // 5000))])]
    frames += [frame(cls, intent, kind, np.array([code])) for code, kind, intent, cls in SHORT_CODES]
    for messages, count in ((DNC_MESSAGES, max(len(DNC_MESSAGES), total // 2000)),
                            ([(g, "garbage") for g in GARBAGE], max(len(GARBAGE), total // 3000))):
        pick = np.arange(count) % len(messages)
        texts, intents = (np.array(col) for col in zip(*messages))
        frames.append(frame("admin", pl.Series(intents[pick]), "none", texts[pick]))
    return pl.concat(frames)


def _content_table() -> pl.DataFrame:
    rows = [(cls, i, nfc, ascii_, unicodedata.normalize("NFD", nfc), ascii_.upper())
            for cls, items in CONTENT.items() for i, (nfc, ascii_) in enumerate(items)]
    return pl.DataFrame(rows, schema=["cls", "content_i", "nfc", "ascii", "nfd", "ascii_upper"], orient="row")


def loose_number(digits: pl.Expr, form: pl.Expr, legacy: dict[str, str]) -> pl.Expr:
    """A number the way a citizen types it; ``digits`` is the national significant number."""
    g1, g2, g3 = digits.str.head(-6), digits.str.tail(6).str.head(3), digits.str.tail(3)
    zero = pl.concat_str(pl.lit("0"), digits)
    old = digits.str.head(2).replace_strict(legacy, default=None, return_dtype=pl.String)
    forms = [
        zero,
        pl.concat_str(pl.lit("0"), g1, pl.lit("."), g2, pl.lit("."), g3),
        pl.concat_str(pl.lit("0"), g1, pl.lit(" "), g2, pl.lit(" "), g3),
        pl.concat_str(pl.lit("0"), g1, pl.lit("-"), g2, pl.lit("-"), g3),
        pl.concat_str(pl.lit("+84"), digits),
        pl.concat_str(pl.lit("84"), digits),
        pl.concat_str(pl.lit("0084"), digits),
        pl.concat_str(pl.lit("+84 "), g1, pl.lit(" "), g2, pl.lit(" "), g3),
        pl.concat_str(pl.lit("0"), old, digits.str.tail(7)),
        zero.str.replace_many([str(i) for i in range(10)], _FULLWIDTH),
        digits,
    ]
    expr = pl.when(form == 0).then(forms[0])
    for i, f in enumerate(forms[1:], start=1):
        expr = expr.when(form == i).then(f)
    return expr.otherwise(zero)


def _effective_form(digits: pl.Expr, form: pl.Expr, legacy: dict[str, str]) -> pl.Expr:
    """Legacy 11-digit and bare forms exist only for 9-digit mobile numbers in the converted ranges."""
    legacy_ok = digits.str.head(2).is_in(list(legacy)) & (digits.str.len_chars() == 9)
    return (pl.when((form == 8) & ~legacy_ok).then(0)
            .when((form == 10) & (digits.str.len_chars() != 9)).then(0).otherwise(form))


def _message(letter: pl.Expr, src: pl.Expr, content: pl.Expr, tmpl: pl.Expr, trailer: pl.Expr) -> pl.Expr:
    parts = [
        [letter, pl.lit(" ["), src, pl.lit("]["), content, pl.lit("]")],
        [letter, pl.lit(" ["), src, pl.lit("] ["), content, pl.lit("]")],
        [letter, pl.lit(" ("), src, pl.lit(")("), content, pl.lit(")")],
        [letter, pl.lit(" "), src, pl.lit(" "), content],
        [letter, pl.lit("("), src, pl.lit(") "), content],
        [letter, src, pl.lit(" "), content],
        [letter, pl.lit("   "), src, pl.lit("    "), content],
        [letter, pl.lit(" "), src],
    ]
    expr = pl.when(tmpl == 0).then(pl.concat_str(parts[0]))
    for i, p in enumerate(parts[1:], start=1):
        expr = expr.when(tmpl == i).then(pl.concat_str(p))
    return pl.concat_str(expr.otherwise(pl.concat_str(parts[0])), trailer)


def _route(rng: np.random.Generator, intents: pl.DataFrame, days: int) -> pl.DataFrame:
    """Pick 5656 or another complaint channel; a few 5656 users send the same complaint twice."""
    n = intents.height
    # The first report naming each protected number, brandname or short code goes to 5656, so every
    # inbox, however small, exercises those parser branches.
    first_spoof = (pl.col("cls").is_in(["spoof", "brand", "shortcode", "premium"])
                   & (pl.int_range(pl.len()).over("target_text") == 0))
    to_5656 = np.where(intents["cls"].to_numpy() == "spoof", .6, .75)
    intents = intents.with_columns(
        pl.when((pl.col("target_kind") != "none") & ~first_spoof & pl.Series(rng.random(n) >= to_5656))
        .then(pl.Series(np.array(CHANNELS)[rng.choice(len(CHANNELS), n, p=[.35, .30, .20, .15])]))
        .otherwise(pl.lit("5656")).alias("channel"),
        pl.Series("corroborated", intents["t_event"].is_not_null()),
    )
    again = intents.filter((pl.col("channel") == "5656") & (pl.col("target_kind") == "mobile"))
    again = again.filter(pl.Series(rng.random(again.height) < 0.06))
    again = again.with_columns(pl.col("t_report") + pl.Series(rng.integers(600, 7200, again.height)))
    intents = pl.concat([intents, again.filter(pl.col("t_report") < days * 86400)])
    return intents.sort("t_report", "reporter_idx", "target_text", "cls")


def _cover(values: np.ndarray, rows: np.ndarray, choices: list[int]) -> None:
    """Give the first rows every choice once, so even a small inbox shows every surface form."""
    k = min(rows.size, len(choices))
    values[rows[:k]] = choices[:k]


def _surface_choices(rng: np.random.Generator, intents: pl.DataFrame, legacy: dict[str, str]) -> pl.DataFrame:
    n = intents.height
    channel = intents["channel"].to_numpy()
    rows = np.flatnonzero((channel == "5656") & (intents["target_kind"].to_numpy() == "mobile"))
    form = np.where(channel == "5656", rng.choice(len(NUMBER_FORMS), n, p=_FORM_W),
                    np.array(_COMPLAINT_FORMS)[rng.integers(0, len(_COMPLAINT_FORMS), n)])
    tmpl = rng.choice(len(TEMPLATES), n, p=_TEMPLATE_W)
    variant = rng.choice(len(CONTENT_VARIANTS), n, p=[.45, .38, .10, .07])
    trailer = rng.choice(len(_TRAILERS), n, p=[.75, .10, .10, .05])
    lower = rng.random(n) < 0.15
    legacy_ok = intents.select(pl.col("target_text").str.head(2).is_in(list(legacy))).to_series().to_numpy()[rows]
    if legacy_ok.any():
        first_legacy = rows[legacy_ok][0]
        form[first_legacy] = NUMBER_FORMS.index("legacy11")
        rows_other = rows[rows != first_legacy]
    else:
        rows_other = rows
    _cover(form, rows_other, [i for i in range(len(NUMBER_FORMS)) if NUMBER_FORMS[i] != "legacy11"])
    _cover(tmpl, rows, list(range(len(TEMPLATES))))
    _cover(variant, rows, list(range(len(CONTENT_VARIANTS))))
    _cover(trailer, rows, list(range(len(_TRAILERS))))
    lower[rows[1:2]] = True
    sizes = {cls: len(v) for cls, v in CONTENT.items()}
    cls_arr = intents["cls"].to_numpy()
    return intents.with_columns(
        pl.Series("content_i", (rng.random(n) * np.array([sizes.get(c, 1) for c in cls_arr])).astype(np.int64)),
        pl.Series("form", form), pl.Series("tmpl", tmpl), pl.Series("variant", variant),
        pl.Series("trailer", np.array(_TRAILERS)[trailer]), pl.Series("lower", lower),
        pl.Series("reporter_form", rng.choice([5, 0, 4], n, p=[.55, .30, .15])),
    )


def build_reports(rng: np.random.Generator, p: People, events: pl.DataFrame, settings: Settings, days: int,
                  epoch0: int, cleared: int) -> Reports:
    total = p.n
    reporters = np.flatnonzero((p.pop == POP["normal"]) & (p.status_last == 0))
    intents = pl.concat([_cdr_intents(rng, p, events, cleared), _uncorroborated(rng, p, events, reporters, days),
                         _other_intents(rng, settings, reporters, total, days)])
    intents = _route(rng, intents.filter(pl.col("t_report") < days * 86400), days)
    legacy = {new[1:]: old[1:] for old, new in settings.numbering.legacy.items()}
    intents = _surface_choices(rng, intents, legacy).with_columns(
        pl.Series("reporter_nsn", p.nsn[intents["reporter_idx"].to_numpy()]).cast(pl.String),
    ).join(_content_table(), on=["cls", "content_i"], how="left", maintain_order="left")
    is_number = pl.col("target_kind").is_in(["mobile", "protected"])
    intents = intents.with_columns(
        pl.when(is_number).then(_effective_form(pl.col("target_text"), pl.col("form"), legacy)).alias("form"),
        pl.when(is_number).then(pl.col("tmpl")).otherwise(pl.col("tmpl") % 4).alias("tmpl"),
    ).with_columns(
        pl.when(is_number).then(loose_number(pl.col("target_text"), pl.col("form"), legacy))
        .otherwise("target_text").alias("source"),
        pl.when(pl.col("variant") == 0).then("nfc").when(pl.col("variant") == 1).then("ascii")
        .when(pl.col("variant") == 2).then("nfd").otherwise("ascii_upper").alias("content"),
        pl.when(pl.col("intent") == "sms").then(pl.lit("S")).otherwise(pl.lit("V")).alias("letter"),
    ).with_columns(
        pl.when(pl.col("target_kind") == "none").then("target_text")
        .otherwise(_message(pl.when("lower").then(pl.col("letter").str.to_lowercase()).otherwise("letter"),
                            pl.col("source"), pl.col("content"), pl.col("tmpl"), pl.col("trailer")))
        .alias("message"),
        local_time(pl.col("t_report"), epoch0).dt.strftime("%Y-%m-%d %H:%M:%S").alias("received_at"),
        (pl.col("t_report") // 86400).alias("day"),
    )
    intents = _assign_ids(intents, epoch0)
    return Reports(intents, _reports_5656(intents, legacy), _complaints(rng, intents, legacy, epoch0))


def _assign_ids(intents: pl.DataFrame, epoch0: int) -> pl.DataFrame:
    date_s = local_time(pl.col("t_report"), epoch0).dt.strftime("%Y%m%d")
    seq = pl.int_range(pl.len()).over("channel_group", "day") + 1
    return intents.with_columns(
        pl.when(pl.col("channel") == "5656").then(pl.lit("5656")).otherwise(pl.lit("complaint")).alias("channel_group"),
    ).with_columns(
        pl.when(pl.col("channel") == "5656")
        .then(pl.concat_str(pl.lit("R5656-"), date_s, pl.lit("-"), seq.cast(pl.String).str.zfill(6)))
        .otherwise(pl.concat_str(pl.lit("KN"), date_s, seq.cast(pl.String).str.zfill(5))).alias("row_id"),
    ).drop("channel_group")


def _reports_5656(intents: pl.DataFrame, legacy: dict[str, str]) -> pl.DataFrame:
    return intents.filter(pl.col("channel") == "5656").select(
        "day", "received_at",
        loose_number(pl.col("reporter_nsn"), pl.col("reporter_form"), legacy).alias("reporter"),
        "message", pl.col("row_id").alias("report_id"))


def _complaints(rng: np.random.Generator, intents: pl.DataFrame, legacy: dict[str, str], epoch0: int) -> pl.DataFrame:
    c = intents.filter(pl.col("channel") != "5656")
    n = c.height
    pick = rng.random(n)
    cls = c["cls"].to_numpy()
    category = np.full(n, "other", dtype="<U16")
    for name, options in _CATEGORY.items():
        m = cls == name
        category[m] = np.array(options)[(pick[m] * len(options)).astype(np.int64)]
    synonym = rng.random(n) < 0.08
    unknown = np.zeros(n, dtype=bool)
    if n:
        unknown[int(rng.integers(0, n))] = True
    out = c.with_columns(
        pl.Series("canonical", category, dtype=pl.String),
        pl.Series("synonym", synonym & ~unknown), pl.Series("unknown", unknown),
        pl.Series("anonymous", (rng.random(n) < 0.1) & (c["channel"].to_numpy() == "web")),
        pl.Series("rform", np.array(_COMPLAINT_FORMS)[rng.integers(0, len(_COMPLAINT_FORMS), n)]),
        pl.Series("occ_missing", rng.random(n) < 0.15),
    ).with_columns(
        pl.when("unknown").then(pl.lit(UNKNOWN_CATEGORY))
        .when("synonym").then(pl.col("canonical").replace_strict(CATEGORY_SYNONYMS))
        .otherwise("canonical").alias("category"),
        pl.when(pl.col("target_kind").is_in(["mobile", "protected"]))
        .then(loose_number(pl.col("target_text"), pl.col("form"), legacy)).otherwise("target_text")
        .alias("reported_number"),
        pl.when("anonymous").then(None)
        .otherwise(loose_number(pl.col("reporter_nsn"), pl.col("rform"), legacy)).alias("reporter"),
        pl.when(pl.col("occ_missing")).then(None)
        .otherwise(local_time(pl.coalesce("t_event", pl.col("t_report") - 1800), epoch0)
                   .dt.strftime("%Y-%m-%d %H:%M")).alias("occurred_at"),
    )
    return out.select("day", pl.col("row_id").alias("complaint_id"), "received_at", "channel", "reported_number",
                      "category", "reporter", pl.col("nfc").alias("description"), "occurred_at",
                      "canonical", "synonym", "unknown")


# --- authority requests and carrier decisions ----------------------------------------------------


def build_requests(p: People, unassigned_nsn: int, end: date, day0: date) -> list[dict]:
    """An information request (432/STTTT-TTra) and a denunciation asking to suspend one scammer."""
    scam = np.flatnonzero(p.ring >= 0)
    ported = p.members("ported_scammer")
    first = int(ported[0]) if ported.size else int(scam[0])
    other = scam[p.cur[scam] != p.cur[first]]
    second = int(other[0]) if other.size else int(scam[1])
    rest = scam[(scam != first) & (scam != second) & (p.cur[scam] != p.cur[first])]
    third = int(rest[-1]) if rest.size else int(scam[-1])
    period = {"from": str(min(day0 + timedelta(days=1), end)), "to": str(end)}
    return [
        {"request_id": "432/STTTT-TTra", "authority": "Sở Thông tin và Truyền thông TP. Cần Thơ",
         "received_at": f"{end}T09:00:00+07:00", "due_at": f"{end + timedelta(days=2)}T17:00:00+07:00",
         "legal_basis": "Nghị định 49/2017/NĐ-CP", "requested_action": "information",
         "numbers": [f"0{p.nsn[first]}", _spaced_plus(int(p.nsn[second])), f"0{unassigned_nsn}"],
         "fields": ["subscriber", "complaints", "cdr_summary"], "period": period},
        {"request_id": "127/PA05-CATP", "authority": "Phòng An ninh mạng và phòng chống tội phạm sử dụng công nghệ cao "
                                                     "(PA05) - Công an TP. Cần Thơ",
         "received_at": f"{end}T10:30:00+07:00", "due_at": f"{end + timedelta(days=1)}T10:30:00+07:00",
         "legal_basis": "Nghị định 49/2017/NĐ-CP; Thông tư 22/2021/TT-BTTTT", "requested_action": "suspend",
         "numbers": [f"84{p.nsn[third]}"], "fields": ["subscriber"], "period": period},
    ]


def _spaced_plus(nsn: int) -> str:
    s = str(nsn)
    return f"+84 {s[:2]} {s[2:5]} {s[5:]}"


def build_decisions(rng: np.random.Generator, p: People, cleared: int, day0: date) -> pl.DataFrame:
    """Earlier decisions the carrier recorded: a cleared call centre, blocked scammers, KYC blocks."""
    blocked = p.members("blocked_scammer")
    kyc = np.flatnonzero(p.status_first == 1)[:2]
    restored = np.flatnonzero((p.pop == POP["normal"]) & (p.status_last == 0) & (p.activated < -60))[:1]
    rows = (
        [(i, -10, "two_way_blocked", "Thuê bao lừa đảo, đã xác minh với PA05") for i in blocked]
        + [(cleared, -5, "cleared", "Tổng đài CSKH hợp pháp, đã xác minh hợp đồng doanh nghiệp")]
        + [(i, -3, "one_way_blocked", "Chưa chuẩn hóa thông tin thuê bao (NĐ 49/2017)") for i in kyc]
        + [(i, -20, "one_way_blocked", "Chưa chuẩn hóa thông tin thuê bao (NĐ 49/2017)") for i in restored]
        + [(i, -12, "restored", "Đã bổ sung thông tin thuê bao") for i in restored]
    )
    d0 = np.datetime64(day0, "D")
    frame = pl.DataFrame(rows, schema=["idx", "day", "decision", "note"], orient="row")
    return frame.with_columns(
        pl.Series("msisdn", [f"0{p.nsn[int(i)]}" for i in frame["idx"]]),
        (pl.lit(d0).cast(pl.Datetime("us")) + pl.duration(days=pl.col("day"), hours=9)
         + pl.duration(minutes=pl.Series(rng.integers(0, 480, frame.height))))
        .dt.strftime("%Y-%m-%d %H:%M:%S").alias("decided_at"),
    ).sort("decided_at", "msisdn").with_columns(
        pl.concat_str(pl.lit(f"CASE-{day0:%Y}-"), (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(4))
        .alias("case_ref"),
    ).select("idx", "msisdn", "decided_at", "decision", "case_ref", "note")
