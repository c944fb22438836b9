"""Each subscriber-information check fires exactly where a hand-built registry says it must, and nowhere else."""

from __future__ import annotations

from datetime import date

import pytest

from tests.transforms.test_registry import (  # noqa: F401 - fixtures and builders shared with the lander tests
    _pseudonym_key,
    con,
    ctx,
    land,
    rows,
    subscriber,
    write_snapshot,
)
from transforms.registry import run_subscriber_checks

RUN = date(2024, 3, 1)
SAME_ID = "001190000777"


def _viettel() -> list[dict]:
    # the five numbers on one ID document, in activation order: 4th at an agent (hit), 5th at the own store
    five = [
        subscriber(f"096100010{i}", id_number=SAME_ID, full_name="Phạm Văn Năm", date_of_birth="1990-02-02",
                   id_issued_on="2021-03-03", activated_on=f"2023-0{i}-01", registration_point=point)
        for i, point in enumerate(["agent", "online", "ekyc", "agent", "own_store"], start=1)
    ]
    return [
        subscriber("0961000001"),                                                       # clean
        subscriber("0961000002", full_name=" ", photo_ref=None),                        # fields missing
        subscriber("0961000003", date_of_birth="31/02/1990"),                           # malformed date
        subscriber("0961000004", id_number="12345"),                                    # cccd must be 12 digits
        subscriber("0961000005", id_type="hochieu", id_number="B1234567"),              # unknown document type
        subscriber("0961000006", kyc_verified="false"),                                 # KYC
        *five,
        subscriber("0961000011", id_type="cmnd", id_number="381234567", id_issued_on="2005-01-01"),  # > 15 years
        subscriber("0961000012", date_of_birth="1990-06-01", id_issued_on="2012-01-01",  # issued at 21: ends at 25
                   id_number="079190000012"),
        subscriber("0961000013", date_of_birth="2030-01-01", id_number="079130000013"),  # born in the future
        subscriber("0961000014", date_of_birth="2015-01-01", id_number="079115000014", guardian_flag="false"),
        subscriber("0961000015", date_of_birth="2015-01-01", id_number="079115000015", guardian_flag="true"),
        subscriber("0961000016", id_number="079188000016", full_name="Lê Văn Cường"),   # one ID, two names
        subscriber("0961000017", id_number="079188000016", full_name="Phạm Thị Dung"),
        subscriber("0961000018", id_number="079188000018", full_name="Nguyễn Văn An"),  # same name, spelt two ways
        subscriber("0961000019", id_number="079-188-000-018", full_name="NGUYEN  VAN AN"),
        subscriber("0961000020", status="terminated", kyc_verified="false", full_name=None, id_number="079188000016",
                   date_of_birth="2030-01-01"),                                         # terminated: never checked
        subscriber("0961000021", id_type="passport", id_number="C1234567", id_issued_on="2013-06-01"),  # > 10 years
        subscriber("0961000022", id_type="Chung minh nhan dan", id_number="381234568", id_issued_on="2015-01-01"),
    ]


def _mobifone() -> list[dict]:
    # the same documents on another network count separately
    return [
        subscriber("0901000001", id_number=SAME_ID, full_name="Phạm Văn Năm", registration_point="agent"),
        subscriber("0901000002", id_number="079188000016", full_name="Trương Văn Khác"),
    ]


EXPECTED = {
    ("+84961000002", "REG_FIELDS_MISSING"): "full_name missing; photo_ref missing",
    ("+84961000003", "REG_FIELDS_MISSING"): "date_of_birth malformed",
    ("+84961000004", "REG_FIELDS_MISSING"): "id_number malformed",
    ("+84961000005", "REG_FIELDS_MISSING"): "id_type malformed",
    ("+84961000006", "REG_KYC_UNVERIFIED"): "kyc_verified = false",
    ("+84961000104", "REG_EXTRA_NUMBER_POINT"):
        "number 4 of 5 on one ID document on this network, registered at agent; from number 4 only at own_store",
    ("+84961000011", "REG_ID_EXPIRED"): "cmnd older than 15 years",
    ("+84961000012", "REG_ID_EXPIRED"): "cccd past its renewal age",
    ("+84961000021", "REG_ID_EXPIRED"): "passport older than 10 years",
    ("+84961000013", "REG_ID_IMPLAUSIBLE"): "date of birth in the future; ID document issued before the date of birth",
    ("+84961000014", "REG_ID_IMPLAUSIBLE"): "younger than 14 without a guardian",
    ("+84961000016", "REG_ID_NAME_CONFLICT"): "ID number registered under 2 different names on this network (2 numbers)",
    ("+84961000017", "REG_ID_NAME_CONFLICT"): "ID number registered under 2 different names on this network (2 numbers)",
}


@pytest.fixture
def landed(con, ctx, tmp_path):
    for carrier, snapshot in (("viettel", _viettel()), ("mobifone", _mobifone())):
        assert land(con, ctx, write_snapshot(tmp_path, carrier, "20240301", snapshot)).rows_rejected == 0
    return con


def _hits(con, run_date: date = RUN) -> dict[tuple[str, str], str]:
    got = rows(
        con,
        "SELECT r.msisdn, h.check_id, h.detail FROM registry_check_hits h "
        "JOIN registry_subscribers r USING (carrier, msisdn_int) WHERE h.run_date = $d",
        {"d": run_date},
    )
    return {(m, c): d for m, c, d in got}


def test_each_check_fires_exactly_where_expected(landed, settings):
    counts = run_subscriber_checks(landed, settings, RUN, "run-1")
    assert _hits(landed) == EXPECTED
    assert counts == {
        "REG_FIELDS_MISSING": 4, "REG_KYC_UNVERIFIED": 1, "REG_EXTRA_NUMBER_POINT": 1,
        "REG_ID_EXPIRED": 3, "REG_ID_IMPLAUSIBLE": 2, "REG_ID_NAME_CONFLICT": 2,
    }


def test_hits_carry_the_profile_legal_basis_and_carrier(landed, settings):
    run_subscriber_checks(landed, settings, RUN, "run-1")
    basis = {c.id: c.legal_basis for c in settings.profile.check}
    got = rows(landed, "SELECT DISTINCT carrier, check_id, legal_basis, run_id FROM registry_check_hits")
    assert sorted(got) == sorted(("viettel", c, basis[c], "run-1") for c in {c for _, c in EXPECTED})
    assert all(b.startswith("Nghị định 49/2017/NĐ-CP") for b in basis.values())


def test_rerunning_a_date_replaces_its_hits(landed, settings):
    run_subscriber_checks(landed, settings, RUN, "run-1")
    run_subscriber_checks(landed, settings, RUN, "run-1b")
    assert _hits(landed) == EXPECTED
    assert rows(landed, "SELECT count(*), min(run_id) FROM registry_check_hits") == [(len(EXPECTED), "run-1b")]
    assert rows(landed, "SELECT count(*) FROM registry_check_runs") == [(1,)]


def test_later_run_dates_use_the_registry_as_of_that_date(landed, settings, ctx, tmp_path):
    # on 2025-04-12 the default subscriber's CCCD (born 1985-04-12, issued at 36) reaches its age-40 renewal
    fixed = [r for r in _viettel() if r["msisdn"] == "0961000001"]
    land(landed, ctx, write_snapshot(tmp_path / "b", "viettel", "20250401", fixed))
    assert run_subscriber_checks(landed, settings, date(2025, 4, 11), "run-2")["REG_ID_EXPIRED"] == 0
    assert _hits(landed, date(2025, 4, 12)) == {}
    run_subscriber_checks(landed, settings, date(2025, 4, 12), "run-3")
    # mobifone sent no newer snapshot: its 2024-03-01 registry (same default birth and issue dates) still holds
    assert _hits(landed, date(2025, 4, 12)) == {
        (m, "REG_ID_EXPIRED"): "cccd past its renewal age" for m in ("+84961000001", "+84901000001", "+84901000002")
    }
    # the earlier run date is still answered from the snapshot that held on it
    run_subscriber_checks(landed, settings, RUN, "run-1")
    assert _hits(landed) == EXPECTED


def test_the_view_shows_hits_with_pseudonyms_only(landed, settings):
    run_subscriber_checks(landed, settings, RUN, "run-1")
    got = rows(landed, "SELECT msisdn, person_ref FROM v_registry_check_hits WHERE check_id = 'REG_ID_NAME_CONFLICT'")
    refs = {r for _, r in got}
    assert len(got) == 2 and len(refs) == 1 and len(next(iter(refs))) == 64
