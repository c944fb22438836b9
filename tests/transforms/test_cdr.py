"""CDR ingest: every row accepted, rejected with a reason, or counted as a duplicate; the lake layout."""

from __future__ import annotations

import csv
import gzip
import io
import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from transforms import cdr
from transforms.cdr import LakeLayoutError, ingest_cdr_file, lake_layout, read_cdr_batches
from transforms.numbers import NumberingTables
from transforms.readers import InputError, sha256_file

HEADER = "record_id,a_number,b_number,start_time,duration_s,event_type,cell_id,imei"
FUZZ = int(os.environ.get("SUBFLAG_FUZZ_EXAMPLES", "200"))


@pytest.fixture(scope="module")
def tables(settings):
    return NumberingTables.from_settings(settings)


def with_cdr(settings, **changes):
    return settings.model_copy(update={"run": settings.run.model_copy(update={"cdr": settings.run.cdr.model_copy(update=changes)})})


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ingest(path: Path, settings, tables, lake: Path, carrier: str = "viettel"):
    return ingest_cdr_file(path, carrier, settings, tables, lake, sha256_file(path))


def lake_rows(lake: Path, tree: str = "cdr") -> list[tuple]:
    con = duckdb.connect()
    try:
        return con.execute(
            "SELECT * EXCLUDE (carrier, day, bucket), day, bucket FROM read_parquet($g, hive_partitioning = true) ORDER BY ALL",
            {"g": str(lake / tree / "*" / "*" / "*" / "*.parquet")},
        ).fetchall()
    finally:
        con.close()


MESSY = [
    HEADER,
    "VT1,0961000001,0971000001,2024-03-05 09:00:00,12,voice,452-04-00001,350000000000011",   # 2 ok
    "VT2,0961000001,0971000001,2024-03-05 25:61:00,12,voice,452-04-00001,350000000000011",   # 3 bad time
    "VT3,0961000001,0971000001,2024-03-05 09:01:00,-5,voice,452-04-00001,350000000000011",   # 4 negative
    "VT4,0961000001,0971000001,2024-03-05 09:02:00,0,data,452-04-00001,350000000000011",     # 5 event type
    "VT5,,0971000001,2024-03-05 09:03:00,0,sms,452-04-00001,350000000000011",                # 6 empty A
    "VT6,VIETTEL,0971000001,2024-03-05 09:04:00,0,sms,,",                                     # 7 brandname A
    ",0961000001,0971000001,2024-03-05 09:05:00,0,sms,,",                                     # 8 no record id
    "VT8,0961000001,0971000001,2024-03-05 09:06:00,0,sms,,,extra",                            # 9 field count
    "",                                                                                        # 10 blank
    "VT1,0961000001,0971000001,2024-03-05 09:00:00,12,voice,452-04-00001,350000000000011",   # 11 duplicate of 2
    'VT9,+84 961 000 002,0971000001,2024-03-05 23:30:00,7,VOICE,"452,04,00009",350000000000099',  # 12 ok (quoted)
    "VT10,0961000001,0971000001,2024-03-05 09:07:00,abc,voice,,",                             # 13 bad duration
    "VT11,84961000003,971000001,2024-03-05T10:00:00+07:00,0,sms,452-04-00003,",               # 14 ok, offset
]


def test_malformed_rows_are_rejected_with_reasons_and_the_rest_lands(settings, tables, tmp_path):
    path = write(tmp_path / "cdr_viettel_20240305.csv", MESSY)
    r = ingest(path, settings, tables, tmp_path / "lake")
    assert (r.rows_read, r.rows_accepted, r.rows_rejected, r.rows_duplicate) == (13, 3, 9, 1)
    assert r.rows_read == r.rows_accepted + r.rows_rejected + r.rows_duplicate
    assert r.rejects.select("source_line", "reason").rows() == [
        (3, "bad_timestamp"), (4, "negative_duration"), (5, "unknown_event_type"), (6, "empty_a_number"),
        (7, "invalid_a_number"), (8, "missing_value"), (9, "field_count"), (10, "blank_line"), (13, "bad_duration"),
    ]
    assert set(r.rejects["source_file"]) == {str(path)}
    assert r.rejects.filter(pl.col("source_line") == 9)["raw"].item() == MESSY[8]
    assert r.rejects.filter(pl.col("source_line") == 7)["detail"].item() == (
        "a_number 'VIETTEL' is not a dialable number (classified brandname)")
    assert r.rejects.filter(pl.col("source_line") == 4)["detail"].item() == "duration_s '-5' is negative"
    assert lake_rows(tmp_path / "lake") == [
        # record_id, a, b, start (UTC), local_hour, duration, type, a_carrier, cell_id, cell_key, imei, day, bucket
        ("VT1", 84961000001, 84971000001, datetime(2024, 3, 5, 2, 0, tzinfo=UTC), 9, 12, "voice", "viettel",
         "452-04-00001", 4520400001, 350000000000011, date(2024, 3, 5), 84961000001 % 8),
        ("VT11", 84961000003, 84971000001, datetime(2024, 3, 5, 3, 0, tzinfo=UTC), 10, 0, "sms", "viettel",
         "452-04-00003", 4520400003, None, date(2024, 3, 5), 84961000003 % 8),
        ("VT9", 84961000002, 84971000001, datetime(2024, 3, 5, 16, 30, tzinfo=UTC), 23, 7, "voice", "viettel",
         "452,04,00009", None, 350000000000099, date(2024, 3, 5), 84961000002 % 8),
    ]


def test_csv_gz_lands_exactly_like_csv(settings, tables, tmp_path):
    plain = write(tmp_path / "a.csv", MESSY)
    packed = tmp_path / "a.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    r1 = ingest(plain, settings, tables, tmp_path / "lake1")
    r2 = ingest(packed, settings, tables, tmp_path / "lake2")
    assert (r1.rows_read, r1.rows_accepted, r1.rows_rejected, r1.rows_duplicate) == (
        r2.rows_read, r2.rows_accepted, r2.rows_rejected, r2.rows_duplicate)
    assert r1.rejects.drop("source_file").equals(r2.rejects.drop("source_file"))
    assert lake_rows(tmp_path / "lake1") == lake_rows(tmp_path / "lake2")


def test_local_day_partition_hour_and_buckets(settings, tables, tmp_path):
    path = write(tmp_path / "x.csv", [
        HEADER,
        "R1,0961000005,0971000006,2024-03-05 00:30:00,60,voice,,",   # 17:30 UTC on 4 March
        "R2,0961000005,0971000007,2024-03-04 23:59:59,0,sms,,",
    ])
    r = ingest(path, settings, tables, tmp_path / "lake")
    a_bucket, b6, b7 = 84961000005 % 8, 84971000006 % 8, 84971000007 % 8
    assert sorted(r.partitions) == [f"carrier=viettel/day=2024-03-04/bucket={a_bucket}",
                                    f"carrier=viettel/day=2024-03-05/bucket={a_bucket}"]
    short = sha256_file(path)[:16]
    assert (tmp_path / "lake/cdr/carrier=viettel/day=2024-03-05" / f"bucket={a_bucket}" / f"{short}.parquet").is_file()
    assert (tmp_path / "lake/cdr_inbound/carrier=viettel/day=2024-03-05" / f"bucket={b6}" / f"{short}.parquet").is_file()
    assert (tmp_path / "lake/cdr_inbound/carrier=viettel/day=2024-03-04" / f"bucket={b7}" / f"{short}.parquet").is_file()
    rows = lake_rows(tmp_path / "lake")
    assert [(x[0], x[4], x[11]) for x in rows] == [("R1", 0, date(2024, 3, 5)), ("R2", 23, date(2024, 3, 4))]
    assert lake_rows(tmp_path / "lake", "cdr_inbound") == [
        (84971000006, "voice", date(2024, 3, 5), b6), (84971000007, "sms", date(2024, 3, 4), b7)]


def test_reingesting_the_same_file_is_idempotent(settings, tables, tmp_path):
    path = write(tmp_path / "x.csv", MESSY)
    lake = tmp_path / "lake"
    first = ingest(path, settings, tables, lake)
    files = {p: p.read_bytes() for p in sorted(lake.rglob("*.parquet"))}
    again = ingest(path, settings, tables, lake)
    assert (again.rows_accepted, again.rows_duplicate) == (first.rows_accepted, first.rows_duplicate)
    assert sorted(lake.rglob("*.parquet")) == sorted(files)
    assert len(lake_rows(lake)) == 3
    assert not (lake / "_work").exists() or not any((lake / "_work").iterdir())


def test_record_ids_already_in_the_carrier_day_are_duplicates(settings, tables, tmp_path):
    lake = tmp_path / "lake"
    ingest(write(tmp_path / "a.csv", [HEADER,
                                      "D1,0961000001,0971000001,2024-03-05 09:00:00,1,voice,,",
                                      "D2,0961000001,0971000001,2024-03-05 09:01:00,1,voice,,"]), settings, tables, lake)
    r = ingest(write(tmp_path / "b.csv", [HEADER,
                                          "D2,0961000001,0971000001,2024-03-05 09:01:00,1,voice,,",   # in file a
                                          "D2,0961000001,0971000001,2024-03-05 09:01:00,1,voice,,",   # and again
                                          "D3,0961000001,0971000001,2024-03-05 09:02:00,1,voice,,",
                                          "D1,0961000009,0971000001,2024-03-06 09:00:00,1,voice,,"]), settings, tables, lake)
    # both copies of D2 go; D1 on another day is another record
    assert (r.rows_read, r.rows_accepted, r.rows_rejected, r.rows_duplicate) == (4, 2, 0, 2)
    assert sorted((x[0], x[11]) for x in lake_rows(lake)) == [
        ("D1", date(2024, 3, 5)), ("D1", date(2024, 3, 6)), ("D2", date(2024, 3, 5)), ("D3", date(2024, 3, 5))]


def test_parquet_with_vendor_columns_and_zoned_or_naive_times(settings, tables, tmp_path):
    s = settings.model_copy(update={"run": settings.run.model_copy(update={"cdr": settings.run.cdr.model_copy(
        update={"columns": {"mobifone": {"CALLING": "a_number", "Called_Number": "b_number", "SEIZURE": "start_time",
                                         "DUR": "duration_s", "TYPE": "event_type", "CDR_ID": "record_id"}}})})})
    frame = pl.DataFrame({
        "CDR_ID": ["M1", "M2"],
        "CALLING": [84901000001, 84901000002],                 # vendors may store numbers as integers
        "Called_Number": ["+84971000001", "0971000002"],
        "SEIZURE": [datetime(2024, 3, 5, 0, 30), datetime(2024, 3, 5, 12, 0)],
        "DUR": [5, 0],
        "TYPE": ["voice", "sms"],
    })
    zoned = frame.with_columns(pl.col("SEIZURE").dt.replace_time_zone("Asia/Ho_Chi_Minh"))
    naive_path, zoned_path = tmp_path / "naive.parquet", tmp_path / "zoned.parquet"
    frame.write_parquet(naive_path)
    zoned.write_parquet(zoned_path)
    r1 = ingest(naive_path, s, tables, tmp_path / "l1", "mobifone")
    r2 = ingest(zoned_path, s, tables, tmp_path / "l2", "mobifone")
    assert (r1.rows_accepted, r1.rows_rejected, r2.rows_accepted, r2.rows_rejected) == (2, 0, 2, 0)
    rows = lake_rows(tmp_path / "l1")
    assert rows == lake_rows(tmp_path / "l2")
    assert [(x[0], x[1], x[2], x[3], x[4], x[7]) for x in rows] == [
        ("M1", 84901000001, 84971000001, datetime(2024, 3, 4, 17, 30, tzinfo=UTC), 0, "mobifone"),
        ("M2", 84901000002, 84971000002, datetime(2024, 3, 5, 5, 0, tzinfo=UTC), 12, "mobifone"),
    ]


def test_missing_column_and_utf16_are_clear_errors(settings, tables, tmp_path):
    no_b = write(tmp_path / "x.csv", ["record_id,a_number,start_time,duration_s,event_type", "1,0961000001,2024-03-05 09:00:00,1,voice"])
    with pytest.raises(InputError, match=r"x\.csv, line 1, column 'b_number': required CDR column 'b_number' is missing"):
        ingest(no_b, settings, tables, tmp_path / "lake")
    utf16 = tmp_path / "y.csv"
    utf16.write_bytes(("\n".join(MESSY)).encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        ingest(utf16, settings, tables, tmp_path / "lake")
    with pytest.raises(InputError, match="expected .parquet, .csv or .csv.gz"):
        ingest(write(tmp_path / "z.jsonl", ["{}"]), settings, tables, tmp_path / "lake")


def test_lake_layout_is_fixed_at_first_write(settings, tables, tmp_path):
    lake = tmp_path / "lake"
    ingest(write(tmp_path / "x.csv", MESSY[:2]), settings, tables, lake)
    assert lake_layout(lake, settings) == cdr.LakeLayout(8, "Asia/Ho_Chi_Minh")
    with pytest.raises(LakeLayoutError, match=r"written with buckets=8.*asks for \[cdr\] buckets=16"):
        ingest(write(tmp_path / "y.csv", MESSY[:2]), with_cdr(settings, buckets=16), tables, lake)


def test_streaming_keeps_line_numbers_across_chunks_and_batches(settings, tables, tmp_path, monkeypatch):
    lines = [HEADER] + [f"S{i},0961{i:06d},0971000001,2024-03-05 09:00:00,1,voice,," for i in range(2500)]
    lines[1000] = "S999x,0961000001,0971000001,2024-03-05 09:00:00,-1,voice,,"   # line 1001
    lines[2001] = "S2000x,0961000001,0971000001,2024-03-05 09:00:00,1,fax,,"     # line 2002
    path = write(tmp_path / "big.csv", lines)
    monkeypatch.setattr(cdr, "_CSV_CHUNK_BYTES", 2048)  # ~40 lines per chunk: many chunk boundaries
    s = with_cdr(settings, ingest_batch_rows=1000)
    batches = list(read_cdr_batches(path, "viettel", s))
    assert len(batches) > 10 and max(b.height for b in batches) < 100
    assert pl.concat([b.select("source_line") for b in batches])["source_line"].to_list() == list(range(2, 2502))
    r = ingest(path, s, tables, tmp_path / "lake")
    assert r.rejects.select("source_line", "reason").rows() == [(1001, "negative_duration"), (2002, "unknown_event_type")]
    assert (r.rows_read, r.rows_accepted) == (2500, 2498)


field_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=12)


@hsettings(max_examples=FUZZ, deadline=None)
@given(st.lists(st.lists(field_text, min_size=3, max_size=3), min_size=1, max_size=5))
def test_csv_splitting_matches_the_csv_module(rows):
    """Any CSV line Python's csv module writes (quotes, delimiters, spaces inside fields) splits back to its fields."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    lines = buf.getvalue().rstrip("\n").split("\n")
    frame = pl.DataFrame({"raw": lines, "source_line": list(range(2, len(lines) + 2))})
    split = cdr._split_frame(frame, ",", 3, {"record_id": 0, "a_number": 1, "b_number": 2})
    assert split["problem"].to_list() == [None] * len(rows)
    got = split.select("record_id", "a_number", "b_number").rows()
    # unquoted fields lose surrounding spaces (exporters pad columns); quoted ones are kept exactly
    assert got == [tuple(f if ("," in f or '"' in f) else f.strip(" ") for f in r) for r in rows]
