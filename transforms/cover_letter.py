"""The cover letter that travels with a package, in Vietnamese administrative form.

Agencies file what they receive as an official reply ("công văn") to their own letter, so the letter
cites their request number and date, the legal basis, what is attached and what could not be answered
(numbers on other networks, numbers not found). It never carries subscriber data itself: names and ID
numbers stay in ``subscribers.csv``, which exists only when the request asked for it. It is rendered as
``.docx`` (the format agencies exchange) and as plain text, both byte-stable for a given input.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from transforms.writers import show_invisible

SUBJECT = "V/v cung cấp thông tin thuê bao"
ATTACHMENT_INDENT = "    "
ZIP_LEVEL = 6  # deflate level: part of the byte-identity contract, changing it changes every package
DEFAULT_LEGAL_BASIS = "Nghị định 49/2017/NĐ-CP"

FILE_DESCRIPTIONS: dict[str, str] = {
    "subscribers.csv": (
        "Thông tin thuê bao (họ và tên, ngày sinh, loại và số giấy tờ tùy thân, ngày và nơi cấp, ngày kích hoạt, "
        "loại thuê bao, trạng thái, điểm đăng ký, tình trạng xác thực)"
    ),
    "complaints.csv": "Các phản ánh, tố giác liên quan đến các số thuê bao được yêu cầu",
    "cdr_summary.csv": "Tổng hợp lưu lượng cuộc gọi, tin nhắn theo từng số và từng ngày",
    "cdr_records.csv": "Chi tiết cuộc gọi, tin nhắn (CDR) trong khoảng thời gian được yêu cầu",
    "cover_letter.docx": "Công văn này (định dạng .docx)",
    "cover_letter.txt": "Công văn này (định dạng văn bản thuần)",
    "manifest.json": "Bản kê các tệp kèm mã băm SHA-256 và số dòng",
    "manifest.sig": "Chữ ký số Ed25519 trên bản kê manifest.json",
}


@dataclass(frozen=True)
class AttachedFile:
    name: str
    rows: int | None = None


@dataclass(frozen=True)
class LetterFacts:
    """Everything the letter says, already resolved; packaging builds it from the request and the run."""

    request_id: str
    authority: str
    received_at: datetime
    legal_basis: str
    requested_action: str
    numbers: Sequence[str]
    period_from: date | None
    period_to: date | None
    carrier_name: str
    carrier_short_name: str
    files: Sequence[AttachedFile]
    numbers_not_found: Sequence[str]
    numbers_elsewhere: Mapping[str, str]
    generated_at: datetime
    key_fingerprint: str
    place: str | None = None


@dataclass(frozen=True)
class CoverLetter:
    sender: str
    reference: str
    subject: str
    place_date: str
    recipient: str
    body: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)
    distribution: list[str] = field(default_factory=list)
    signer: list[str] = field(default_factory=list)


def vietnamese_date(d: date) -> str:
    """Decree 30/2020 style: days below 10 and months 1–2 take a leading zero ("ngày 05 tháng 3 năm 2024")."""
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def short_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _local_date(moment: datetime, reference: datetime) -> date:
    """The authority's date as seen in the carrier's zone (a UTC timestamp could otherwise shift a day)."""
    if moment.tzinfo and reference.tzinfo:
        return moment.astimezone(reference.tzinfo).date()
    return moment.date()


def one_line(text: str) -> str:
    """Outside text goes into fixed lines of the letter: no control characters, no forged line breaks, and
    bidi/zero-width characters shown as ``[U+202E]`` tokens (a request number must read as it was written)."""
    return show_invisible(xml_safe(" ".join(text.split())))


def compose_letter(facts: LetterFacts) -> CoverLetter:
    facts = replace(
        facts,
        request_id=one_line(facts.request_id),
        authority=one_line(facts.authority),
        legal_basis=one_line(facts.legal_basis or DEFAULT_LEGAL_BASIS),
        numbers=[one_line(n) for n in facts.numbers],
        numbers_not_found=[one_line(n) for n in facts.numbers_not_found],
        numbers_elsewhere={one_line(n): one_line(c) for n, c in facts.numbers_elsewhere.items()},
    )
    legal_basis = facts.legal_basis
    sender = facts.carrier_name
    place_date = vietnamese_date(facts.generated_at.date())
    place_date = f"{facts.place}, {place_date}" if facts.place else place_date[:1].upper() + place_date[1:]
    body = [
        f"Căn cứ {legal_basis};",
        f"Căn cứ văn bản số {facts.request_id} ngày {short_date(_local_date(facts.received_at, facts.generated_at))} của "
        f"{facts.authority} về việc đề nghị cung cấp thông tin thuê bao,",
        f"{sender} xin cung cấp thông tin theo yêu cầu như sau:",
    ]
    numbered = [f"Các số thuê bao được yêu cầu: {', '.join(facts.numbers)}."]
    if facts.period_from or facts.period_to:
        start = short_date(facts.period_from) if facts.period_from else "…"
        end = short_date(facts.period_to) if facts.period_to else "…"
        numbered.append(f"Khoảng thời gian: từ ngày {start} đến ngày {end}.")
    numbered.append("Các tệp kèm theo:")
    attachments = [
        f"{ATTACHMENT_INDENT}- {f.name}: {FILE_DESCRIPTIONS.get(f.name, 'Tệp dữ liệu')}"
        + (f" — {f.rows} dòng;" if f.rows is not None else ";")
        for f in facts.files
    ]
    if attachments:
        attachments[-1] = attachments[-1][:-1] + "."
    tail: list[str] = []
    if facts.numbers_elsewhere:
        moved = "; ".join(f"{n} (hiện thuộc {c})" for n, c in sorted(facts.numbers_elsewhere.items()))
        tail.append(
            f"Các số thuê bao hiện không thuộc mạng {facts.carrier_short_name}: {moved}. "
            "Đề nghị Quý cơ quan liên hệ doanh nghiệp tương ứng để được cung cấp thông tin."
        )
    if facts.numbers_not_found:
        tail.append(
            "Các số không tìm thấy trong cơ sở dữ liệu của doanh nghiệp và không xác định được doanh nghiệp "
            f"đang quản lý: {', '.join(sorted(facts.numbers_not_found))}."
        )
    if facts.requested_action == "suspend":
        tail.append(
            f"Đối với đề nghị ngừng cung cấp dịch vụ: các số thuê bao thuộc mạng {facts.carrier_short_name} "
            "đã được đưa vào danh sách đề xuất chặn hai chiều để xử lý theo quy định."
        )
    lead = [f"{i}. {t}" for i, t in enumerate(numbered, start=1)]
    rest = [f"{i}. {t}" for i, t in enumerate(tail, start=len(numbered) + 1)]
    items = [*lead, *attachments, *rest]
    closing = [
        "Thông tin thuê bao là thông tin riêng được pháp luật bảo vệ; đề nghị Quý cơ quan quản lý, sử dụng "
        "đúng mục đích và bảo mật theo quy định.",
        "Tính toàn vẹn của các tệp được bảo đảm bằng chữ ký số Ed25519 trên bản kê manifest.json "
        f"(dấu vân tay SHA-256 của khóa công khai: {facts.key_fingerprint}).",
        "Trân trọng./.",
    ]
    return CoverLetter(
        sender=sender,
        reference=f"Số: ……/{facts.carrier_short_name}-TTTB",
        subject=SUBJECT,
        place_date=place_date,
        recipient=f"Kính gửi: {facts.authority}",
        body=body,
        items=items,
        closing=closing,
        distribution=["Nơi nhận:", "- Như trên;", "- Lưu: VT."],
        signer=[f"ĐẠI DIỆN {facts.carrier_short_name.upper()}", "(Ký, ghi rõ họ tên, đóng dấu)"],
    )


_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Request ids and authority names come from outside; control characters XML cannot hold are dropped."""
    return _XML_FORBIDDEN.sub("", text)


def render_text(letter: CoverLetter) -> str:
    lines = [
        letter.sender.upper(),
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        letter.reference,
        letter.subject,
        letter.place_date,
        "",
        letter.recipient,
        "",
        *letter.body,
        *letter.items,
        "",
        *letter.closing,
        "",
        *letter.distribution,
        "",
        *letter.signer,
    ]
    return "\n".join(lines) + "\n"


def fixed_zipinfo(name: str, when: datetime) -> zipfile.ZipInfo:
    """A member header that depends only on the name and the given time, never on the wall clock or host."""
    info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, when.hour, when.minute, when.second))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o600 << 16
    return info


def repack_zip(data: bytes, when: datetime) -> bytes:
    """python-docx stamps members with the wall clock; rewrite them, same order, with a fixed time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(fixed_zipinfo(info.filename, when), src.read(info), compresslevel=ZIP_LEVEL)
    return out.getvalue()


def render_docx(letter: CoverLetter, *, when: datetime) -> bytes:
    """Times New Roman 13 pt, the two-column heading of an official letter; core properties pinned to ``when``."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    for section in doc.sections:
        section.top_margin = section.bottom_margin = Cm(2)
        section.left_margin, section.right_margin = Cm(3), Cm(1.5)

    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    _cell_lines(left, [(letter.sender.upper(), True, False), (letter.reference, False, False),
                       (letter.subject, False, False)], WD_ALIGN_PARAGRAPH.CENTER)
    _cell_lines(right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False),
                        ("Độc lập - Tự do - Hạnh phúc", True, False),
                        (letter.place_date, False, True)], WD_ALIGN_PARAGRAPH.CENTER)

    recipient = doc.add_paragraph()
    recipient.alignment = WD_ALIGN_PARAGRAPH.CENTER
    recipient.add_run(xml_safe(letter.recipient)).bold = True
    for text in [*letter.body, *letter.items, *letter.closing]:
        p = doc.add_paragraph(xml_safe(text.strip()))
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Cm(1.5 if text.startswith(ATTACHMENT_INDENT) else 1)

    foot = doc.add_table(rows=1, cols=2)
    left, right = foot.rows[0].cells
    _cell_lines(left, [(t, i == 0, i == 0) for i, t in enumerate(letter.distribution)], WD_ALIGN_PARAGRAPH.LEFT)
    _cell_lines(right, [(t, i == 0, i > 0) for i, t in enumerate(letter.signer)], WD_ALIGN_PARAGRAPH.CENTER)

    props = doc.core_properties
    props.title = letter.subject
    props.subject = xml_safe(letter.recipient)
    props.author = xml_safe(letter.sender)
    props.last_modified_by = xml_safe(letter.sender)
    props.comments = ""
    props.revision = 1
    stamp = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    props.created = props.modified = props.last_printed = stamp
    buf = io.BytesIO()
    doc.save(buf)
    return repack_zip(buf.getvalue(), when)


def _cell_lines(cell, lines: list[tuple[str, bool, bool]], align) -> None:  # noqa: ANN001 - python-docx types
    cell.paragraphs[0].text = ""
    for i, (text, bold, italic) in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        p.alignment = align
        run = p.add_run(xml_safe(text))
        run.bold = bold
        run.italic = italic
