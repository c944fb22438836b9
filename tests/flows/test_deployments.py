"""Deployments are built from config (no server): cron, time zone, parameters, entry points."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.flows.conftest import copy_config, set_schedule, set_timezone
from transforms.config import load_config


def _build(config_dir: Path, root: Path):
    from flows.serve import build_deployments

    settings = load_config(config_dir)
    deployments = build_deployments(
        settings, inbox=root / "inbox", warehouse=root / "wh.duckdb", lake=root / "lake", out=root / "out",
        config_dir=config_dir,
    )
    return {d.name: d for d in deployments}


def _cron(deployment) -> tuple[str, str]:
    (schedule,) = deployment.schedules
    return schedule.schedule.cron, schedule.schedule.timezone


def test_cron_and_timezone_come_from_the_config_folder(tmp_path: Path) -> None:
    config = copy_config(tmp_path / "config")
    set_schedule(config, "daily", "30 5 * * 2")
    set_schedule(config, "audit", "45 23 1 * *")
    set_timezone(config, "Asia/Bangkok")

    built = _build(config, tmp_path)

    assert sorted(built) == ["audit", "daily", "intake"]
    assert _cron(built["daily"]) == ("30 5 * * 2", "Asia/Bangkok")
    assert _cron(built["intake"]) == ("15 * * * *", "Asia/Bangkok")
    assert _cron(built["audit"]) == ("45 23 1 * *", "Asia/Bangkok")


def test_default_schedules(tmp_path: Path) -> None:
    built = _build(copy_config(tmp_path / "config"), tmp_path)

    assert _cron(built["daily"]) == ("0 6 * * *", "Asia/Ho_Chi_Minh")
    assert _cron(built["intake"]) == ("15 * * * *", "Asia/Ho_Chi_Minh")
    assert _cron(built["audit"]) == ("0 7 * * 1", "Asia/Ho_Chi_Minh")


def test_parameters_are_absolute_paths_and_leave_the_run_date_to_the_run(tmp_path: Path, monkeypatch) -> None:
    config = copy_config(tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    from flows.serve import build_deployments

    deployments = build_deployments(
        load_config(config), inbox=Path("in"), warehouse=Path("w/wh.duckdb"), lake=Path("lk"), out=Path("o"),
        config_dir=Path("config"),
    )
    built = {d.name: d for d in deployments}
    cfg = str(tmp_path / "config")

    assert built["daily"].parameters == {
        "inbox": str(tmp_path / "in"), "warehouse": str(tmp_path / "w/wh.duckdb"), "lake": str(tmp_path / "lk"),
        "out": str(tmp_path / "o"), "config_dir": cfg,
    }
    assert built["intake"].parameters == {
        "inbox": str(tmp_path / "in"), "warehouse": str(tmp_path / "w/wh.duckdb"), "lake": str(tmp_path / "lk"),
        "out": str(tmp_path / "o"), "config_dir": cfg,
    }
    assert built["audit"].parameters == {"warehouse": str(tmp_path / "w/wh.duckdb"), "config_dir": cfg}
    assert {d.name: (d.flow_name, d.entrypoint) for d in deployments} == {
        "daily": ("subflag-daily", "flows.daily.daily_run"),
        "intake": ("subflag-intake", "flows.intake.intake_run"),
        "audit": ("subflag-audit", "flows.audit.audit_run"),
    }
    assert built["daily"].description.startswith("Daily flagging run for the previous local day")


def test_run_date_is_optional_in_the_daily_and_audit_flows() -> None:
    """A scheduled run passes no date; the flows resolve the previous local day themselves."""
    from flows.audit import audit_run
    from flows.daily import daily_run

    for flow_ in (daily_run, audit_run):
        schema = flow_.parameters.model_dump()
        assert "run_date" not in schema["required"], flow_.name
        assert schema["properties"]["run_date"]["default"] is None, flow_.name


def test_intake_lands_only_the_fast_lane_folders() -> None:
    from flows.intake import FAST_LANE_KINDS

    assert FAST_LANE_KINDS == frozenset({"reports_5656", "complaints", "requests"})


def test_a_configured_server_is_used_and_none_is_started(tmp_path: Path, monkeypatch) -> None:
    import prefect
    from prefect.settings import PREFECT_API_URL, temporary_settings

    import flows.serve as serve

    served: list[list[str]] = []
    monkeypatch.setattr(prefect, "serve", lambda *deps, **kw: served.append([d.name for d in deps]))

    def no_local_server(*args, **kwargs):
        raise AssertionError("a local server was started although PREFECT_API_URL is set")

    monkeypatch.setattr(serve, "local_prefect_server", no_local_server)
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        serve.serve_forever(
            load_config(), inbox=tmp_path / "i", warehouse=tmp_path / "w.duckdb", lake=tmp_path / "l",
            out=tmp_path / "o", prefect_home=tmp_path / "prefect",
        )
    assert served == [["daily", "intake", "audit"]]
    assert not (tmp_path / "prefect").exists()


def test_run_summary_markdown_has_counts_and_locations(tmp_path: Path) -> None:
    from flows.artifacts import render_run_markdown
    from flows.daily import RunSummary

    out_dir = tmp_path / "out" / "2025-03-04"
    summary = RunSummary(
        run_id="20250304-abcdef012345", run_date=date(2025, 3, 4), out_dir=out_dir,
        warehouse=tmp_path / "wh.duckdb", files_new=3, files_known=1, files_failed=0,
        rows={"rows_read": 1200, "rows_rejected": 7}, rule_hits={"ring_short_calls": 4},
        candidates={"viettel": 2}, spoofing_alerts=1,
        outputs=[out_dir / "viettel" / "candidates.csv", out_dir / "report.html"],
    )
    assert render_run_markdown(summary) == "\n".join([
        "# subflag daily run `20250304-abcdef012345` for 2025-03-04",
        "",
        "## Files", "", "| inbox files | count |", "|---|---:|",
        "| new | 3 |", "| already landed | 1 |", "| failed | 0 |", "",
        "## Rows", "", "| stage | count |", "|---|---:|", "| rows_read | 1,200 |", "| rows_rejected | 7 |", "",
        "## Rule hits", "", "| rule | count |", "|---|---:|", "| ring_short_calls | 4 |", "",
        "## Candidates exported", "", "| carrier | count |", "|---|---:|", "| viettel | 2 |", "",
        "Spoofing alerts: **1**", "",
        "## Outputs", "",
        f"- output folder: `{out_dir}`",
        f"- warehouse: `{tmp_path / 'wh.duckdb'}`",
        "- `viettel/candidates.csv`",
        "- `report.html`",
        "",
    ])


@pytest.mark.parametrize("empty", ["rule_hits", "candidates"])
def test_markdown_shows_none_for_empty_sections(tmp_path: Path, empty: str) -> None:
    from flows.artifacts import render_run_markdown
    from flows.daily import RunSummary

    summary = RunSummary(run_id="r", run_date=date(2025, 3, 4), out_dir=tmp_path, warehouse=tmp_path / "w")
    text = render_run_markdown(summary)
    title = {"rule_hits": "## Rule hits", "candidates": "## Candidates exported"}[empty]
    section = text.split(title, 1)[1].split("##", 1)[0]
    assert "| (none) | 0 |" in section
