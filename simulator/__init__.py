"""Local API simulator: Chzzk, SOOP, Twitch Helix and Steam, offline, seeded, deterministic.

It speaks each platform's real paths, params, auth, pagination, JSON shapes, rate limits and
`Date` headers (in *simulated* time), so the loaders run unchanged against it::

    from simulator import Simulator
    with Simulator(seed=42, channels=300, faults=0.0, start="2026-11-02T00:00:00Z") as sim:
        os.environ.update(sim.env(official=True))   # base URLs + simulator credentials
        ...run a poll...
        sim.advance(minutes=10)                      # the world is frozen between advances
        sim.truth(days=7)                            # planted influences and elasticity

or from the shell: ``gst simulate --port 8765 --seed 42 --channels 300 --truth-out truth.json``
(admin endpoints: ``POST /_sim/advance?minutes=N``, ``GET /_sim/now``, ``GET /_sim/truth``).

World model
-----------
Games come from ``catalog.csv`` plus three streaming-only categories that are not in the
catalog (spelled a little differently per platform) and ~60 synthetic Steam-only apps, so
``GetMostPlayedGames`` returns ~95 ranks. Steam players = base x daily seasonality (KST
evening peak) x weekly (weekend up) x trend (updates ramp up over hours, decay over days)
x discount uplift (sales come and go over 3-10 days) x noise + streamer effect. Each
platform has ``streamers_per_channel x channels`` streamers (about ``channels`` are live at
the daily peak) with heavy-tailed popularity, personal schedules (one 1-8 h session a day,
mostly KST evenings, days off), mid-session game switches, ramping viewer curves, and talk /
music / sports shows.

The planted causal effect: every streamer has an ``influence`` = extra Steam players per
1,000 viewers while streaming a game, applied after ``lag_minutes`` and decaying with
``decay_minutes`` after they stop (steady state exactly influence x viewers / 1000). The
elasticity of a game's players with respect to its viewers is then effect / players: larger
on small games, where the same audience is a larger share of the players.
``truth(days=...)`` / ``--truth-out`` add the planted elasticity (``"elasticity"``: pooled,
per game, and its definition) over the first days of 10-minute polls.

Updates are observable as in reality: ``ISteamNews/GetNewsForApp/v2`` serves a patch-notes
item (tag ``patchnotes``) at every update and ordinary announcements / external press at other
times.

World knobs (``Simulator(..., **knobs)``, ``gst simulate --knob name=value``); all of the
things that make the impact question honestly hard are ON by default. Defaults are calibrated
at the demo size (40 channels, 7 days); the source of each is given.

``selection`` (1.0)
    Streamers favour games whose players are already rising (0 = choose regardless).
``common_causes`` (1.0)
    Sales, updates and weekends raise both Steam players and the number of streams.
``overlap`` (1.0)
    Two "hot" games a day draw many streamers at once, on every platform.
``viewer_scale`` (15.0)
    Multiplies every stream's viewers. Source: streamed games typically have live viewers of
    1-10 % of their players (issue anchor; Twitch vs SteamDB figures); 15 puts the median
    share over game-polls with viewers at 3-4 % with 40 channels (measured on seeds 1, 7, 99:
    0.030, 0.041, 0.041). The share grows with ``channels``.
``zero_influence_share`` (0.4), ``influence_median`` (300), ``big_influencer_share`` (0.03),
``big_influence`` (6000)
    Extra players per 1,000 viewers: a share of exactly-zero influences, lognormal ones
    around the median and a few large ones that dominate. Source: Huang & Morozov,
    Marketing Science 44(4), 2025: elasticity of concurrent players with respect to viewers
    0.027; these sizes put the mean planted elasticity over game-polls with viewers at
    0.02-0.03 at the demo size (micro-streamers moving players most per viewer, Jo, Lewis &
    Wang 2024, is not modelled: influence does not depend on audience size).
``lag_minutes`` (25), ``decay_minutes`` (60)
    Delay and decay of the streamer effect: it dissipates within a few hours (Huang &
    Morozov 2025). The kernel is cut at lag + 5 x decay.
``noise`` (0.003), ``count_dispersion`` (2.0)
    Per-minute noise of a count: relative s.d. sqrt(noise^2 + count_dispersion / expected
    players), i.e. Poisson-like (variance = 2 x mean) so it shrinks with the game's size
    (1.4 % at 10k players, 0.15 % at 900k) over a small floor.
``shock_rate`` (0.1), ``shock_size`` (0.05)
    Unobserved shocks (outages, tournaments, outside press): per app and day a shock with
    probability 0.1 (about three a month), relative size N(0, 0.05), lasting 1-6 hours. An
    assumption: no published anchor.
``discount_uplift`` (1.2)
    Extra players per unit of discount (50 % off -> +60 %).
``streamers_per_channel`` (2.0)
    Streamers that exist per live channel at the daily peak.
``news_per_week`` (1.5)
    Ordinary news items (no effect on players) per app and week, beside patch notes.

Server options (keyword arguments): ``port``, ``slow_seconds`` (3.0), ``max_faulty_attempts``
(2), ``twitch_token_ttl`` (simulated seconds, 86400), ``twitch_rate_limit`` / ``_window``
(800 per 60 s), ``steam_store_rate_limit`` / ``_window`` (200 per 300 s), and the accepted
credentials (``chzzk_client_id`` ... ``twitch_client_secret``, defaults ``sim-*``).
Rate-limit buckets refill in real time and in simulated time; ``Ratelimit-Reset`` is in the
simulated time base of the ``Date`` header.

Without HTTP, ``simulator.tables.write_raw_tables(path, seed=, channels=, days=)``
renders the same items and parses them with the loaders' row functions into the ``raw_*``
tables of a DuckDB file (used by ``bench/impact_truth.py`` for week-long worlds).

Faults
------
``faults=RATE`` injects, reproducibly from (seed, instant, request, attempt), 429 with and
without ``Retry-After``, 500/502/503, slow responses (``slow_seconds``), truncated JSON, HTML
pages with status 200, duplicated items within a page, items shifted in from the previous page,
an unknown new field, and numbers sent as numeric strings. An identical request is faulty at
most ``max_faulty_attempts`` times at one instant, so retries succeed; data-level faults never
change the underlying observations. Admin endpoints are never faulted.
"""

from simulator.server import Simulator, serve
from simulator.world import World, WorldKnobs

__all__ = ["Simulator", "World", "WorldKnobs", "serve"]
