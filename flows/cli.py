"""`subflag` — the command line of the compliance team. Thin: parse options, call a flow or a transform."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from transforms.config import ConfigError, load_config

app = typer.Typer(help="subflag: scam/spam-call complaints + CDRs → suspension candidates and information packages.",
                  no_args_is_help=True, add_completion=False)
console = Console()

ConfigDir = Annotated[Optional[Path], typer.Option("--config", help="config folder (default: the project's config/)")]


def _quiet_prefect() -> None:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")


def yesterday_local(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date() - timedelta(days=1)


def _settings(config: Path | None):
    try:
        return load_config(config)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def simulate(
    inbox: Annotated[Path, typer.Option(help="inbox folder to write")] = Path("data/inbox"),
    truth: Annotated[Path, typer.Option(help="ground-truth folder (kept outside the inbox)")] = Path("data/truth"),
    subscribers: Annotated[int, typer.Option(min=100)] = 20_000,
    days: Annotated[int, typer.Option(min=1, max=60)] = 7,
    seed: int = 7,
    end_date: Annotated[Optional[str], typer.Option("--end-date", help="last simulated day YYYY-MM-DD (default: yesterday, local)")] = None,
    cdr_format: Annotated[str, typer.Option("--cdr-format", help="parquet or csv.gz")] = "parquet",
    overwrite: Annotated[bool, typer.Option(help="replace an inbox the simulator wrote before")] = True,
    config: ConfigDir = None,
) -> None:
    """Write a realistic synthetic inbox (several carriers and days, scam rings, benign heavy callers, messy 5656 texts)."""
    from transforms.simulate import SimulationSpec, simulate_inbox

    settings = _settings(config)
    if cdr_format not in ("parquet", "csv.gz"):
        raise typer.BadParameter("expected parquet or csv.gz", param_hint="--cdr-format")
    last = date.fromisoformat(end_date) if end_date else yesterday_local(settings.run.timezone)
    spec = SimulationSpec(subscribers=subscribers, days=days, end_date=last, seed=seed, cdr_format=cdr_format)  # type: ignore[arg-type]
    summary = simulate_inbox(spec, settings, inbox, truth, overwrite=overwrite)
    table = Table(title=f"synthetic inbox {inbox} (seed {seed}, {days} days to {last}, {summary.seconds:.1f} s)")
    table.add_column("folder")
    table.add_column("files", justify="right")
    table.add_column("rows", justify="right")
    for kind, files, rows in summary.table():
        table.add_row(kind, f"{files:,}", f"{rows:,}")
    console.print(table)
    console.print(f"ground truth: [bold]{truth}[/bold]")


@app.command()
def run(
    inbox: Annotated[Optional[Path], typer.Option(help="inbox folder (default from config/run.toml)")] = None,
    warehouse: Annotated[Optional[Path], typer.Option(help="DuckDB warehouse file")] = None,
    lake: Annotated[Optional[Path], typer.Option(help="Parquet CDR lake folder")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output folder")] = None,
    run_date: Annotated[Optional[str], typer.Option("--date", help="local run date YYYY-MM-DD (default: yesterday)")] = None,
    allowlist: Annotated[Optional[Path], typer.Option(help="CSV of verified enterprise numbers (column msisdn) never to flag")] = None,
    config: ConfigDir = None,
) -> None:
    """Run the daily flow once: ingest → normalise → load → features → flag → export → report."""
    _quiet_prefect()
    settings = _settings(config)
    paths = settings.run.paths
    the_date = date.fromisoformat(run_date) if run_date else yesterday_local(settings.run.timezone)
    from flows.daily import daily_run

    summary = daily_run(
        run_date=the_date,
        inbox=inbox or paths.inbox,
        warehouse=warehouse or paths.warehouse,
        lake=lake or paths.lake,
        out=out or paths.out,
        config_dir=config,
        allowlist=allowlist,
    )
    print_summary(summary)


@app.command()
def serve(
    inbox: Annotated[Optional[Path], typer.Option(help="inbox folder (default from config/run.toml)")] = None,
    warehouse: Annotated[Optional[Path], typer.Option(help="DuckDB warehouse file")] = None,
    lake: Annotated[Optional[Path], typer.Option(help="Parquet CDR lake folder")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output folder")] = None,
    prefect_home: Annotated[Optional[Path], typer.Option("--prefect-home", help="PREFECT_HOME of the local server (default data/prefect)")] = None,
    port: Annotated[int, typer.Option(help="port of the local Prefect server (0: any free port)")] = 0,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="serve the Prefect UI with the local server")] = True,
    config: ConfigDir = None,
) -> None:
    """Serve the Prefect deployments on their cron schedules (config/schedules.toml, Asia/Ho_Chi_Minh).

    Deployments: subflag-daily/daily (06:00, the full daily flow for the previous local day),
    subflag-intake/intake (hourly, the fast lane: 5656 reports, complaints, authority requests),
    subflag-audit/audit (weekly, the Decree 49/2017 subscriber-information checks).
    Cron schedules need a persistent Prefect server: with PREFECT_API_URL unset this starts
    `prefect server start` on 127.0.0.1 with its own PREFECT_HOME and stops it on exit; with
    PREFECT_API_URL set it serves against that server. Stop with Ctrl-C or SIGTERM.
    """
    _quiet_prefect()
    from flows.serve import ServerStartError, serve_command

    try:
        serve_command(inbox=inbox, warehouse=warehouse, lake=lake, out=out, config=config,
                      prefect_home=prefect_home, port=port, ui=ui)
    except (ConfigError, ServerStartError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def print_summary(summary) -> None:  # noqa: ANN001 - RunSummary, imported lazily with Prefect
    table = Table(title=f"subflag run {summary.run_id} for {summary.run_date}")
    table.add_column("carrier")
    table.add_column("candidates (exported)", justify="right")
    for carrier, n in sorted(summary.candidates.items()):
        table.add_row(carrier, f"{n:,}")
    table.add_row("[dim]spoofing alerts[/dim]", f"{summary.spoofing_alerts:,}")
    console.print(table)
    rows = summary.rows
    console.print(
        f"files: {summary.files_new} new, {summary.files_known} already landed, {summary.files_failed} failed; "
        f"rows read {rows.get('rows_read', 0):,}, rejected {rows.get('rows_rejected', 0):,}"
    )
    console.print(f"outputs:   [bold]{summary.out_dir}[/bold]")
    console.print(f"warehouse: [bold]{summary.warehouse}[/bold]")


if __name__ == "__main__":
    app()
