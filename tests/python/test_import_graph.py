"""The import graph of the Python packages follows docs/loaders-layout.md (README "Where things
live"): floors from the ground up, a module imports only from lower floors (or its own
package), no platform imports another platform, and there is no import circle.

Imports are read with `ast` from the source (also those inside functions), so a lazy import
that would hide a circle at run time counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ("chzzk", "soop", "twitch", "steam")

#: floor of each module of `loaders` (a platform package is one unit); a module may import
#: only from floors below its own
FLOORS = {
    "loaders.records": 0,
    "loaders.warehouse": 0,
    "loaders.alerts": 0,
    "loaders.http": 1,
    "loaders.columns": 1,
    **{f"loaders.{platform}": 2 for platform in PLATFORMS},
    "loaders.pipeline": 3,
    "loaders.ledger": 1,
    "loaders.dbt_run": 3,
    "loaders.validate": 4,
    "loaders.publish": 4,
    "loaders.bronze": 3,
    "loaders.bronze_compact": 4,
    "loaders.bronze_replay": 5,
    "loaders.demo": 5,
    "loaders.cli": 6,
}


def unit(module: str) -> str:
    """`loaders.twitch.helpers` -> `loaders.twitch`; other modules are their own unit."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "loaders" and parts[1] in PLATFORMS:
        return ".".join(parts[:2])
    return module


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every `loaders...` module imported anywhere in the file (top level or in functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    known = {module_name(p) for p in (ROOT / "loaders").rglob("*.py")} - {"loaders"}
    return {unit(m) for m in found if m in known} - {unit(name)}


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted((ROOT / "loaders").rglob("*.py")):
        if path.parent.name == "quality" or module_name(path) == "loaders":
            continue
        edges.setdefault(unit(module_name(path)), set()).update(imports_of(path))
    return edges


def test_every_module_has_a_floor():
    assert set(graph()) == set(FLOORS), "add new modules of loaders/ to FLOORS"


@pytest.mark.parametrize("module", sorted(FLOORS))
def test_imports_come_only_from_lower_floors(module):
    upward = {m for m in graph()[module] if FLOORS[m] >= FLOORS[module]}
    assert not upward, f"{module} (floor {FLOORS[module]}) imports {sorted(upward)}"


def test_no_platform_imports_another():
    edges = graph()
    for platform in PLATFORMS:
        others = {f"loaders.{p}" for p in PLATFORMS} - {f"loaders.{platform}"}
        assert not edges[f"loaders.{platform}"] & others, platform


def test_no_import_circle():
    edges = graph()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = path[path.index(node) :] + [node]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if node in done:
            return
        for target in sorted(edges.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for node in sorted(edges):
        visit(node, [])


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The reader finds lazy imports inside functions (what a circle would hide behind)."""
    probe = ROOT / "loaders" / "records.py"
    assert "loaders.pipeline" not in imports_of(probe)
    fake = tmp_path / "loaders" / "probe.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    from loaders.pipeline import load_platform\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    (tmp_path / "loaders" / "pipeline.py").write_text("")
    assert imports_of(fake) == {"loaders.pipeline"}
