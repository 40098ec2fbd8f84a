"""`gst`: the command line of Game & Stream Trends.

Each command is a thin wrapper: the work lives in the module it imports, so the CLI
starts fast and each command's options are documented in one place (`gst CMD --help`).
"""

from __future__ import annotations

import sys

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
) -> None:
    """Serve the local API simulator for Chzzk, SOOP, Twitch and Steam."""
    from loaders.simulator.server import serve

    serve(port=port, seed=seed, channels=channels, faults=faults, start=start, truth_out=truth_out)


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
