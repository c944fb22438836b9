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

from transforms.config import ConfigError, Settings, load_config

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
    dask_address: Annotated[Optional[str], typer.Option("--dask-address", help="run the feature stage's bucket passes on this Dask scheduler (tcp://host:8786)")] = None,
    dask_local: Annotated[Optional[int], typer.Option("--dask-local", min=1, help="start a local Dask cluster of N worker processes for the bucket passes")] = None,
    config: ConfigDir = None,
) -> None:
    """Run the daily flow once: ingest → normalise → load → features → flag → export → report."""
    _quiet_prefect()
    settings = _settings(config)
    paths = settings.run.paths
    the_date = date.fromisoformat(run_date) if run_date else yesterday_local(settings.run.timezone)
    from flows.daily import daily_run
    from flows.runners import dask_task_runner

    runner = dask_task_runner(settings, dask_address, dask_local)
    flow = daily_run.with_options(task_runner=runner) if runner is not None else daily_run
    summary = flow(
        run_date=the_date,
        inbox=inbox or paths.inbox,
        warehouse=warehouse or paths.warehouse,
        lake=lake or paths.lake,
        out=out or paths.out,
        config_dir=config,
        allowlist=allowlist,
    )
    print_summary(summary, settings)


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


def print_summary(summary, settings: Settings | None = None) -> None:  # noqa: ANN001 - RunSummary, imported lazily with Prefect
    """The run report's figures as tables; complaint text stays in report.html. Read from the analysts'
    snapshot when there is one, so a flow writing the warehouse meanwhile cannot block the summary."""
    import re

    from rich.markup import escape

    from transforms.report import collect_report_data, summary_tables
    from transforms.snapshot import snapshot_path
    from transforms.warehouse import connect

    settings = settings or load_config()
    snapshot = snapshot_path(summary.warehouse)
    with connect(snapshot if snapshot.is_file() else summary.warehouse, settings.run.duckdb, read_only=True) as con:
        data = collect_report_data(con, settings, summary.run_date, summary.run_id)
    console.print(f"[bold]subflag run {summary.run_id} for {summary.run_date}[/bold]")
    for spec in summary_tables(data):
        table = Table(title=spec.title, title_justify="left")
        for i, column in enumerate(spec.columns):
            numeric = bool(spec.rows) and all(re.fullmatch(r"[0-9][0-9,.]*", row[i]) for row in spec.rows)
            table.add_column(column, justify="right" if numeric else "left")
        for row in spec.rows or [["(none)", *[""] * (len(spec.columns) - 1)]]:
            table.add_row(*(escape(cell) for cell in row))  # request ids, authorities: input, not markup
        console.print(table)
    rows = summary.rows
    console.print(
        f"files: {summary.files_new} new, {summary.files_known} already landed, {summary.files_failed} failed; "
        f"rows read {rows.get('rows_read', 0):,}, rejected {rows.get('rows_rejected', 0):,}"
    )
    console.print(f"report:    [bold]{summary.out_dir / 'report.html'}[/bold]")
    console.print(f"outputs:   [bold]{summary.out_dir}[/bold]")
    console.print(f"warehouse: [bold]{summary.warehouse}[/bold] (analysts: [bold]{snapshot}[/bold], read-only)")


# --------------------------------------------------------------------------- information-request packages

keys_app = typer.Typer(help="Ed25519 signing keys for information-request packages.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _local_datetime(text: str, tz: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"expected an ISO date-time like 2024-03-05T10:15:00+07:00, got {text!r}", param_hint=option) from exc
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


@app.command()
def package(
    request: Annotated[Path, typer.Option("--request", help="authority request JSON file (landed first if new)",
                                          exists=True, dir_okay=False, readable=True)],
    run_date: Annotated[Optional[str], typer.Option("--date", help="answer with data as of this local day YYYY-MM-DD (default: today, generated now)")] = None,
    generated_at: Annotated[Optional[str], typer.Option("--generated-at", help="state this generation time (ISO), e.g. to rebuild a package the hourly intake built")] = None,
    warehouse: Annotated[Optional[Path], typer.Option(help="DuckDB warehouse file")] = None,
    lake: Annotated[Optional[Path], typer.Option(help="Parquet CDR lake folder")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output folder")] = None,
    config: ConfigDir = None,
) -> None:
    """Answer one authority request now: one signed zip per carrier that holds one of its numbers.

    Writes <out>/<date>/<carrier>/packages/<request-slug>.zip. Without --date the package is dated today
    and states the current time; with --date it states the end of that day. A request already packaged for
    the date is rebuilt with its recorded run id and generation time, so the result can be compared byte
    for byte with what was sent.
    """
    from transforms.package_data import RequestNotAnswerable, answer_request_file
    from transforms.readers import InputError
    from transforms.signing import SigningKeyError

    settings = _settings(config)
    paths, tz = settings.run.paths, settings.run.timezone
    now = datetime.now(ZoneInfo(tz)).replace(microsecond=0)
    try:
        the_date = date.fromisoformat(run_date) if run_date else now.date()
    except ValueError as exc:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {run_date!r}", param_hint="--date") from exc
    when = _local_datetime(generated_at, tz, "--generated-at") if generated_at else None
    try:
        result = answer_request_file(settings, request, run_date=the_date, warehouse=warehouse or paths.warehouse,
                                     lake=lake or paths.lake, out=out or paths.out, generated_at=when,
                                     default_generated_at=None if run_date else now)
    except (InputError, RequestNotAnswerable, SigningKeyError) as exc:
        raise _fail(f"subflag package: {exc}", 2) from exc
    if result.key_created:
        typer.echo(result.key_message, err=True)
    for path in result.paths:
        typer.echo(f"package: {path}")
    if result.not_held:
        from transforms.writers import show_invisible  # request ids are the authority's text: show bidi controls

        held_by_nobody = ", ".join(show_invisible(r) for r in result.not_held)
        typer.echo(f"no configured carrier holds any number of request {held_by_nobody}: nothing to package "
                   "(reply that the numbers are not subscribers of these networks)")
    if result.failures:
        raise _fail("subflag package: " + "; ".join(result.failures), 1)


@app.command()
def verify(
    package_zip: Annotated[Path, typer.Argument(metavar="PACKAGE.zip", help="the package to check", exists=True, dir_okay=False)],
    public_key: Annotated[Optional[Path], typer.Option("--public-key", help="sender's Ed25519 public key (PEM); default: the configured key pair's public half")] = None,
    config: ConfigDir = None,
) -> None:
    """Check a package: the signature over manifest.json, every member's SHA-256 and row count, nothing extra.

    Exit status 0 when everything matches, 1 when the package fails a check (each problem is listed),
    2 when no usable public key was found.
    """
    from transforms.signing import SigningKeyError, configured_public_key
    from transforms.verify import verify_package

    try:
        key = public_key or configured_public_key(_settings(config).run.paths.signing_keys)
        report = verify_package(package_zip, key)
    except SigningKeyError as exc:
        raise _fail(f"subflag verify: {exc}", 2) from exc
    if not report.ok:
        raise _fail(report.summary(), 1)
    typer.echo(report.summary())


@keys_app.command("init")
def keys_init(
    folder: Annotated[Optional[Path], typer.Option("--dir", help="keys folder (default: run.paths.signing_keys, data/keys)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing key pair (packages already sent will no longer verify against the new public key)")] = False,
    config: ConfigDir = None,
) -> None:
    """Create the Ed25519 key pair that signs packages: private key 0600 in a 0700 folder, public key beside it."""
    from transforms.signing import SIGNING_KEY_ENV, init_keys, public_fingerprint

    target = folder or _settings(config).run.paths.signing_keys
    try:
        private_path, public_path = init_keys(target, overwrite=force)
    except FileExistsError as exc:
        raise _fail(f"subflag keys init: {exc}", 1) from exc
    typer.echo(f"private key: {private_path} (keep it out of the repository)")
    typer.echo(f"public key:  {public_path} (give it to the authorities that receive packages)")
    typer.echo(f"fingerprint: {public_fingerprint(public_path)}")
    if os.environ.get(SIGNING_KEY_ENV, "").strip():
        typer.echo(f"note: {SIGNING_KEY_ENV} is set and takes precedence over this key when signing", err=True)

if __name__ == "__main__":
    app()
