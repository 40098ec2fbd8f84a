"""`gst`: the command line of Game & Stream Trends.

Each command is a thin wrapper: the work lives in the module it imports, so the CLI
starts fast and each command's options are documented in one place (`gst CMD --help`).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Game & Stream Trends: how do streamers move games?",
)


@app.callback()
def _root() -> None:
    """Game & Stream Trends: how do streamers move games?"""


class UserError(Exception):
    """An error the user can fix (bad config, unreachable host): printed as one sentence."""


@app.command()
def simulate(
    port: int = typer.Option(8765, help="Port to listen on (127.0.0.1)."),
    seed: int = typer.Option(42, help="World seed: same seed, same world, same bytes."),
    channels: int = typer.Option(300, help="Live channels per platform at peak."),
    faults: float = typer.Option(0.0, help="Fault rate 0..1 (429, 5xx, timeouts, bad bodies)."),
    start: str = typer.Option(
        "2026-11-02T00:00:00Z", help="Simulated clock start (ISO-8601, UTC)."
    ),
    truth_out: str = typer.Option(None, help="Write the planted streamer influences as JSON."),
    slow_seconds: float = typer.Option(3.0, help="Delay of the 'slow response' fault."),
    twitch_token_ttl: int = typer.Option(86400, help="Twitch token lifetime (simulated s)."),
    twitch_rate_limit: int = typer.Option(800, help="Twitch Helix points per minute."),
    knob: list[str] = typer.Option(  # noqa: B008 - typer's way to declare a repeatable option
        None,
        help="World knob NAME=VALUE, repeatable (e.g. --knob selection=0); "
        "see `python -c 'import simulator as s; help(s)'`.",
    ),
) -> None:
    """Serve the local API simulator for Chzzk, SOOP, Twitch and Steam."""
    from simulator.process import EXIT_WITH_PARENT, exit_with_parent
    from simulator.server import serve

    if os.environ.get(EXIT_WITH_PARENT):  # started by a demo or a benchmark: ends with it
        exit_with_parent()

    knobs = {}
    for item in knob or []:
        name, sep, value = item.partition("=")
        try:
            knobs[name.strip()] = float(value)
        except ValueError:
            raise UserError(f"simulate: --knob expects NAME=NUMBER, got '{item}'") from None
        if not sep:
            raise UserError(f"simulate: --knob expects NAME=NUMBER, got '{item}'")
    try:
        serve(
            port=port,
            seed=seed,
            channels=channels,
            faults=faults,
            start=start,
            truth_out=truth_out,
            echo=typer.echo,
            slow_seconds=slow_seconds,
            twitch_token_ttl=twitch_token_ttl,
            twitch_rate_limit=twitch_rate_limit,
            **knobs,
        )
    except (ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc


@app.command()
def validate(
    target: str = typer.Option("duckdb", help="Warehouse: duckdb, postgres or redshift."),
    suite: str = typer.Option("all", help="raw (loader tables), gold (silver/gold models), all."),
    docs_dir: str = typer.Option("data/gx_docs", help="Where to write the GX Data Docs site."),
) -> None:
    """Validate the warehouse with Great Expectations; exit code 1 when an expectation fails."""
    from loaders import validate as checks

    try:
        report = checks.validate(suite, target, docs_dir=docs_dir)
    except checks.ValidationError as exc:
        raise UserError(str(exc)) from exc
    checks.print_report(report)
    if not report.success:
        raise typer.Exit(1)


@app.command()
def status(
    target: str = typer.Option("duckdb", help="Warehouse: duckdb, postgres or redshift."),
    limit: int = typer.Option(20, help="How many of the latest runs to show."),
) -> None:
    """Latest load/build/validate runs and each platform's freshness."""
    from loaders import ledger, warehouse

    try:
        ledger.print_status(target, limit)
    except (warehouse.WarehouseError, warehouse.SettingError) as exc:
        raise UserError(str(exc)) from exc


def _loader_logging() -> None:
    """Loader messages: errors on the console (everything with GST_DEBUG=1); warnings still
    reach the per-poll counters."""
    import logging
    import os

    from rich.logging import RichHandler

    debug = bool(os.environ.get("GST_DEBUG"))
    gst = logging.getLogger("gst")
    gst.setLevel(logging.DEBUG if debug else logging.INFO)
    gst.addHandler(RichHandler(level=logging.DEBUG if debug else logging.ERROR, show_path=False))
    gst.propagate = False


@app.command()
def load(
    platforms: Annotated[list[str], typer.Argument(help="chzzk, soop, twitch, steam or all.")],
    target: str = typer.Option("duckdb", help="Warehouse: duckdb, postgres or redshift."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Live progress."),
    bronze: str = typer.Option(
        None,
        help="Also write each raw response page gzip-compressed under this path or URL "
        "(s3://...): PATH/<platform>/date=YYYY-MM-DD/hour=HH/<poll_id>-<n>.json.gz.",
    ),
    from_bronze: str = typer.Option(
        None, help="Load from the bronze files under this path instead of the APIs."
    ),
) -> None:
    """Poll each platform once and load it into the raw_<platform> schemas.

    Exit code 1 only when a platform failed entirely; quarantined items are counted."""
    import contextlib

    from loaders import bronze as bronze_files
    from loaders import bronze_replay
    from loaders.pipeline import ConfigError, run_load

    _loader_logging()
    if bronze and from_bronze:
        raise UserError("load: use either --bronze or --from-bronze, not both")
    try:
        if from_bronze:
            results = bronze_replay.replay(from_bronze, platforms, target)
            for result in results.values():
                typer.echo(result.summary())
            if any(r.status == "failed" for r in results.values()):
                raise typer.Exit(1)
            return
        recorder = bronze_files.recording(bronze) if bronze else contextlib.nullcontext()
        with recorder as rec:
            report = run_load(platforms, target, progress=progress)
    except (ConfigError, bronze_files.BronzeError) as exc:
        raise UserError(str(exc)) from exc
    if not progress:
        for result in report.platforms.values():
            typer.echo(result.summary())
    if rec is not None:
        typer.echo(rec.summary())
    if report.failed:
        raise typer.Exit(1)


bronze_app = typer.Typer(
    no_args_is_help=True, help="Bronze files: the raw API responses `gst load --bronze` keeps."
)
app.add_typer(bronze_app, name="bronze")


@bronze_app.command("compact")
def bronze_compact(
    path: Annotated[str, typer.Argument(help="Bronze path or URL, as for `gst load --bronze`.")],
    date: str = typer.Option(..., help="The UTC day to compact, YYYY-MM-DD."),
    platform: list[str] = typer.Option(  # noqa: B008 - typer's way to declare a repeatable option
        None, help="chzzk, soop, twitch or steam, repeatable (default: all)."
    ),
) -> None:
    """Turn one day's page files into one Parquet file per platform:
    PATH/platform=<platform>/date=YYYY-MM-DD/<platform>-YYYY-MM-DD.parquet.

    The file is verified before the page files are removed; re-running changes nothing."""
    from loaders.bronze import BronzeError
    from loaders.bronze_compact import check_date, compact_day
    from loaders.pipeline import ConfigError, resolve_platforms

    try:
        check_date(date)
        names = resolve_platforms(platform or ["all"])
    except (ValueError, ConfigError) as exc:
        raise UserError(f"bronze compact: {exc}") from None
    reports = []
    for name in names:
        try:
            reports.append(compact_day(path, date, name))
        except (BronzeError, OSError) as exc:
            raise UserError(f"bronze compact: {name} {date}: {exc}") from exc
        typer.echo(reports[-1].summary())
    if all(r.status == "empty" for r in reports):
        raise UserError(f"bronze compact: no bronze files of {date} under {path}")


@app.command()
def poll(
    platforms: Annotated[
        list[str] | None, typer.Argument(help="chzzk, soop, twitch, steam or all (default).")
    ] = None,
    every: str = typer.Option("5m", help="Poll interval, e.g. 30s, 5m, 1h."),
    flush_every: str = typer.Option("30m", help="Load the extracted polls this often."),
    target: str = typer.Option("duckdb", help="Warehouse: duckdb, postgres or redshift."),
    max_polls: int = typer.Option(0, help="Stop after this many polls (0: run until stopped)."),
) -> None:
    """Poll continuously; extract every poll, load in batches; Ctrl-C/SIGTERM loads the batch."""
    from loaders.pipeline import ConfigError, parse_duration, run_poll

    _loader_logging()
    try:
        run_poll(
            platforms or ["all"],
            target,
            every=parse_duration(every),
            flush_every=parse_duration(flush_every),
            max_polls=max_polls or None,
            echo=typer.echo,
        )
    except ConfigError as exc:
        raise UserError(str(exc)) from exc


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def build(
    ctx: typer.Context,
    target: str = typer.Option("duckdb", help="Warehouse: duckdb, postgres or redshift."),
    quiet: bool = typer.Option(False, help="Only dbt's errors, not its progress."),
) -> None:
    """`dbt build` (further options go to dbt, e.g. --exclude resource_type:snapshot), recorded
    in the run ledger; on DuckDB, then publish gold for readers (see `gst publish`)."""
    from loaders import publish, warehouse
    from loaders.dbt_run import DbtFailed

    if target not in ("duckdb", "postgres", "redshift"):
        raise UserError(f"build: unknown target {target!r} (duckdb, postgres or redshift)")
    try:
        published = publish.build(target, tuple(ctx.args), echo=typer.echo, quiet=quiet)
    except (DbtFailed, TimeoutError, warehouse.SettingError) as exc:
        raise UserError(str(exc)) from exc
    if published:
        typer.echo(published.summary())


@app.command(name="publish")
def publish_gold() -> None:
    """Copy gold of the DuckDB warehouse to the file the dashboard and BI tools read
    (GST_DUCKDB_READ_PATH), atomically; `gst build` does this after every build."""
    import duckdb

    from loaders import publish, warehouse

    try:
        published = warehouse.wait_on_lock(publish.publish, "publish", typer.echo)
    except (duckdb.Error, FileNotFoundError, RuntimeError, warehouse.SettingError) as exc:
        raise UserError(str(exc)) from exc
    typer.echo(published.summary())


@app.command()
def demo(
    days: float = typer.Option(7, help="Simulated days to collect (10-minute polls)."),
    seed: int = typer.Option(42, help="Simulator world seed."),
    channels: int = typer.Option(40, help="Live channels per platform at the daily peak."),
    target: str = typer.Option("duckdb", help="Warehouse: duckdb, postgres or redshift."),
    increment_hours: float = typer.Option(8, help="Load + snapshot every N simulated hours."),
    faults: float = typer.Option(0.0, help="Simulator fault rate (the loaders must cope)."),
    docs: bool = typer.Option(True, help="Generate dbt docs at the end."),
) -> None:
    """Simulator -> loaders -> dbt build/snapshot -> checks -> docs -> summary, offline."""
    from rich.console import Console

    from loaders.dbt_run import DbtFailed
    from loaders.demo import DemoConfig, DemoFailed, print_summary, run_demo
    from loaders.pipeline import ConfigError

    for name, value in (("--days", days), ("--increment-hours", increment_hours)):
        if value <= 0:
            raise UserError(f"demo: {name} must be greater than 0, got {value:g}")
    if channels < 1 or not 0 <= faults <= 1:
        raise UserError("demo: --channels must be at least 1 and --faults between 0 and 1")
    console = Console()
    cfg = DemoConfig(
        days=days, seed=seed, channels=channels, target=target,
        increment_hours=increment_hours, faults=faults, docs=docs,
    )  # fmt: skip
    try:
        summary = run_demo(cfg, echo=console.print)
    except (DemoFailed, DbtFailed, ConfigError) as exc:
        raise UserError(str(exc)) from exc
    print_summary(summary, cfg, console)


@app.command()
def dashboard(
    port: int = typer.Option(8501, help="Port to serve the dashboard on."),
    target: str = typer.Option("duckdb", help="Warehouse: duckdb, postgres or redshift."),
) -> None:
    """Serve the dashboard on the gold models (Streamlit) at http://localhost:PORT."""
    import os
    import subprocess
    from pathlib import Path

    if target not in ("duckdb", "postgres", "redshift"):
        raise UserError(f"dashboard: unknown target {target!r} (duckdb, postgres or redshift)")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "GST_DASHBOARD_TARGET": target}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(root / "dashboard" / "app.py"),
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    typer.echo(f"Dashboard on http://localhost:{port} (Ctrl-C stops it)")
    try:
        raise typer.Exit(subprocess.call(cmd, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def main() -> None:
    """Console-script entry point: user errors become one line and exit code 2."""
    import os

    try:
        app()
    except UserError as exc:
        if os.environ.get("GST_DEBUG"):
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
