"""Does the column-wise fast path (`loaders/columns.py`) still pay for itself?

Reads the same well-formed pages of the simulator's items (as its HTTP handlers render them)
with each list source's page reader twice: column by column (the fast path) and item by item
(`fast=False` / no fast reader), best of `--repeat` runs, and prints `BENCH` lines with the
cost per item of each path and their ratio. No HTTP, no dlt: only the reading of pages, which
is the part the fast path replaces.

    .venv/bin/python bench/columns_bench.py --channels 20000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from loaders.chzzk import helpers as chzzk
from loaders.records import Poll, Where
from loaders.soop import helpers as soop
from loaders.twitch import helpers as twitch
from simulator.server import Simulator, _chzzk_item, _soop_item, _twitch_item

PAGE = 100  # items per page (Twitch's maximum; SOOP sends 60, Chzzk 50)


def best(read: Callable[[list], Any], pages: list[list], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for items in pages:
            read(items)
        times.append(time.perf_counter() - started)
    return min(times)


def readers(at: Any) -> dict[str, tuple[Callable, Callable, Callable]]:
    """source -> (render item j of state, fast reader, item-by-item reader)."""
    sp, cp = Poll("soop", at, "web"), Poll("chzzk", at, "service")
    sw, cw = Where("soop", "/api/main_broad_list_api.php"), Where("chzzk", "/service/v1/lives")
    tw = Where("twitch", "/helix/streams")

    def twitch_read(fast: Any) -> Callable:
        return lambda items: twitch.read_page(
            items, tw, "twitch:poll", at, twitch.stream_row, twitch.STREAMS_SCHEMA, fast
        )

    return {
        "soop": (
            lambda sim, st, j: _soop_item(sim, st, j),
            lambda items: soop.broads_page(items, sw, sp, set()),
            lambda items: soop.broads_page(items, sw, sp, set(), fast=False),
        ),
        "chzzk": (
            lambda sim, st, j: _chzzk_item(sim, st, j, service=True),
            lambda items: chzzk.lives_page(items, cw, cp, set()),
            lambda items: chzzk.lives_page(items, cw, cp, set(), fast=False),
        ),
        "twitch": (
            lambda sim, st, j: _twitch_item(sim, st, j),
            twitch_read(twitch.streams_table),
            twitch_read(None),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sim = Simulator(seed=42, channels=args.channels, start="2026-11-02T12:00:00Z")
    at = sim.now
    for name, (render, fast, slow) in readers(at).items():
        st = sim.state(name)
        items = [render(sim, st, j) for j in range(len(st))]
        pages = [items[i : i + PAGE] for i in range(0, len(items), PAGE)]
        fast_s, slow_s = best(fast, pages, args.repeat), best(slow, pages, args.repeat)
        n = len(items)
        print(
            f"BENCH columns {name}: {n} items, column-wise {fast_s / n * 1e6:.1f} us/item, "
            f"item by item {slow_s / n * 1e6:.1f} us/item, ratio {slow_s / fast_s:.2f}x"
        )


if __name__ == "__main__":
    main()
