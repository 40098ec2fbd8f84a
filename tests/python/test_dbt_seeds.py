"""The dbt seeds agree with the simulator's catalog and with what the Steam loader expects."""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNMAPPED_ON_PURPOSE = {"eternal_return", "lies_of_p", "deadlock"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_games_seed_is_the_catalog_minus_the_unmapped_games() -> None:
    catalog = {row["game_key"]: row for row in _rows(ROOT / "simulator/catalog.csv")}
    games = _rows(ROOT / "seeds/games.csv")
    keys = [row["game_key"] for row in games]

    assert len(keys) == len(set(keys))
    assert set(keys) == set(catalog) - UNMAPPED_ON_PURPOSE
    for row in games:
        source = catalog[row["game_key"]]
        assert row["steam_appid"] == source["steam_appid"], row["game_key"]
        assert row["category_kind"] == source["kind"], row["game_key"]
        assert row["category_kind"] in {"game", "talk", "music", "sports"}


def test_games_seed_keeps_the_columns_the_steam_loader_reads() -> None:
    header = next(csv.reader((ROOT / "seeds/games.csv").open(encoding="utf-8")))
    assert header[:2] == ["game_key", "steam_appid"]
    appids = [row["steam_appid"] for row in _rows(ROOT / "seeds/games.csv") if row["steam_appid"]]
    assert appids and all(appid.isdigit() for appid in appids)


def test_category_map_covers_every_platform_category_of_the_seeded_games() -> None:
    catalog = _rows(ROOT / "simulator/catalog.csv")
    mapping = _rows(ROOT / "seeds/game_category_map.csv")
    pairs = {(row["platform"], row["category_id"]): row["game_key"] for row in mapping}

    assert len(pairs) == len(mapping), "duplicate (platform, category_id) in the map"
    expected = {}
    for game in catalog:
        if game["game_key"] in UNMAPPED_ON_PURPOSE:
            continue
        expected[("chzzk", game["chzzk_category"])] = game["game_key"]
        expected[("soop", game["soop_cate_no"])] = game["game_key"]
        expected[("twitch", game["twitch_game_id"])] = game["game_key"]
    assert pairs == expected
    assert all(len(cid) == 8 for (platform, cid) in pairs if platform == "soop")
