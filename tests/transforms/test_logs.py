"""Stage log lines: counts and seconds only; anything that could carry text or a number's digits is refused."""

from __future__ import annotations

import logging

import pytest

from transforms.logs import UnsafeLogField, format_stage_line, log_stage, stage_fields, timed_stage


def test_line_is_logfmt_sorted_and_flattened():
    line = format_stage_line("export", 1.23456, {"spoofing_alerts": 2, "candidates": {"viettel": 3, "itel": 1},
                                                 "share": 0.5, "ok": True})
    assert line == "stage=export seconds=1.235 candidates.itel=1 candidates.viettel=3 ok=true share=0.500 spoofing_alerts=2"


@pytest.mark.parametrize("counts", [
    {"note": "lừa đảo chuyển tiền"},                 # text
    {"numbers": ["0912345678"]},                      # a list of anything
    {"candidates": {"0912345678": 1}},                # a phone number as a key
    {"by_reporter": {"Nguyễn Văn An": 1}},            # a name as a key
    {"bad key": 1},
    {"x": None},
])
def test_anything_but_named_numbers_is_refused(counts):
    with pytest.raises(UnsafeLogField):
        stage_fields(counts)


def test_stage_name_must_be_plain():
    with pytest.raises(UnsafeLogField):
        format_stage_line("ingest <script>", 0.0, {})


def test_timed_stage_logs_one_line_with_seconds_and_record_fields(caplog):
    logger = logging.getLogger("subflag.test")
    with caplog.at_level(logging.INFO, logger="subflag.test"):
        with timed_stage(logger, "features") as counts:
            counts.update(feature_rows=996, bucket_passes=8)
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("stage=features seconds=")
    assert record.getMessage().endswith(" bucket_passes=8 feature_rows=996")
    assert record.subflag["stage"] == "features"
    assert record.subflag["counts"] == {"bucket_passes": 8, "feature_rows": 996}
    assert 0 <= record.subflag["seconds"] < 5


def test_failed_stage_is_logged_then_raises(caplog):
    logger = logging.getLogger("subflag.test")
    with caplog.at_level(logging.INFO, logger="subflag.test"), pytest.raises(RuntimeError, match="boom"):
        with timed_stage(logger, "flag") as counts:
            counts["rule_hits"] = 4
            raise RuntimeError("boom")
    [record] = caplog.records
    assert record.getMessage().endswith(" failed=true rule_hits=4")


def test_log_stage_returns_what_it_logged(caplog):
    logger = logging.getLogger("subflag.test")
    with caplog.at_level(logging.INFO, logger="subflag.test"):
        line = log_stage(logger, "report", 0.25, {"files": 1})
    assert caplog.records[0].getMessage() == line == "stage=report seconds=0.250 files=1"


def test_a_running_stage_drops_unsafe_fields_instead_of_failing(caplog):
    logger = logging.getLogger("subflag.test")
    with caplog.at_level(logging.INFO, logger="subflag.test"):
        line = log_stage(logger, "load", 0.5, {"rows_read": 10, "note": "Nguyễn Văn An", "by": {"0912345678": 1}})
    assert line == "stage=load seconds=0.500 rows_read=10 unsafe_fields_dropped=2"
    assert caplog.records[0].subflag["counts"] == {"rows_read": 10, "unsafe_fields_dropped": 2}
