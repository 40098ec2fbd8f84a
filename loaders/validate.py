"""`gst validate`: Great Expectations checkpoints over the raw tables and the silver/gold models.

What is checked lives in `loaders/quality/checks.yml`; this module turns each table's entry into
a GX expectation suite and runs it as a checkpoint:

* DuckDB is not a GX SQL dialect, so each table is read with the duckdb Python API (only the
  columns the checks need) and validated as a pandas dataframe batch.
* PostgreSQL and Redshift are validated in the database (`add_postgres` / `add_redshift` query
  assets), with the connection built from the same environment variables as profiles.yml.

Every table gets two batches: its rows (the checked columns only) and its latest poll
(`select *` of one poll, for the column set, freshness and volume checks; for tables without
polls no row at all, for the column set only). Freshness is relative to the newest poll of any
platform, not to the wall clock, so a warehouse of simulated past days validates the same way.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import yaml

from loaders import warehouse
from loaders.records import POLL_RECORD

CHECKS_FILE = Path(__file__).resolve().parent / "quality" / "checks.yml"
DEFAULT_DOCS_DIR = Path("data/gx_docs")  # like the warehouse path: relative to the working dir
SUITES = ("raw", "gold", "all")
TARGETS = ("duckdb", "postgres", "redshift")
MAP_EXPECTATIONS = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
}


class ValidationError(RuntimeError):
    """Validation could not run at all (unknown suite/target, unreachable warehouse)."""


@dataclass(frozen=True)
class CheckResult:
    table: str
    expectation: str  # e.g. "expect_column_values_to_be_between(viewer_count >= 0)"
    success: bool
    detail: str = ""
    skipped: bool = False


@dataclass
class ValidationReport:
    suite: str
    target: str
    results: list[CheckResult] = field(default_factory=list)
    docs_index: Path | None = None

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results if not r.skipped)

    @property
    def failures(self) -> list[tuple[str, str, str]]:
        return [
            (r.table, r.expectation, r.detail)
            for r in self.results
            if not r.success and not r.skipped
        ]

    def failure_lines(self) -> list[str]:
        return [f"{table}: {exp} failed: {detail}" for table, exp, detail in self.failures]

    def summary(self) -> str:
        checked = [r for r in self.results if not r.skipped]
        passed = sum(r.success for r in checked)
        skipped = len(self.results) - len(checked)
        tables = len({r.table for r in checked})
        verdict = "PASSED" if self.success else "FAILED"
        return (
            f"validate {self.suite} on {self.target}: {verdict}, {passed} of {len(checked)} "
            f"expectations passed on {tables} tables ({len(self.failures)} failed, "
            f"{skipped} skipped)"
        )


@cache
def load_checks(path: Path = CHECKS_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- warehouses: metadata queries and GX batches ------------------------------------------------


class _DuckDB:
    """Reads with the duckdb Python API; GX sees pandas dataframes."""

    def __init__(self, path: Path):
        import duckdb

        if not path.exists():
            raise ValidationError(f"DuckDB warehouse {path} does not exist (run `gst load`)")
        try:
            try:
                self.con = warehouse.connect_duckdb(path, read_only=True)
            except duckdb.ConnectionException:
                # this process already holds a read-write connection (e.g. `gst demo` after
                # loading): DuckDB requires the same configuration for a second one.
                self.con = warehouse.connect_duckdb(path)
        except (duckdb.Error, warehouse.SettingError) as exc:
            raise ValidationError(f"cannot open DuckDB warehouse {path}: {exc}") from exc

    def query(self, sql: str):
        return self.con.sql(sql).to_arrow_table().to_pandas()

    def close(self) -> None:
        self.con.close()

    def datasource(self, context: Any) -> Any:
        return context.data_sources.add_pandas(name="warehouse")

    def batch(self, datasource: Any, name: str, sql: str) -> tuple[Any, dict | None]:
        frame = self.query(sql)
        asset = datasource.add_dataframe_asset(name=name)
        return asset.add_batch_definition_whole_dataframe(name), {"dataframe": frame}


class _Sql:
    """PostgreSQL / Redshift through SQLAlchemy; GX runs the expectations in the database."""

    def __init__(self, target: str):
        import sqlalchemy as sa

        self.target = target
        settings = warehouse.server(target)
        self.host, self.port, self.user = settings.host, settings.port, settings.user
        self.database, self.password_var = settings.database, settings.password_var
        prefix = settings.prefix
        env = os.environ
        self.driver = "postgresql+psycopg2" if target == "postgres" else "redshift+psycopg2"
        url = sa.engine.URL.create(
            self.driver,
            username=self.user,
            password=env.get(self.password_var) or None,
            host=self.host,
            port=self.port,
            database=self.database,
        )
        self.engine = sa.create_engine(url)
        try:
            with self.engine.connect() as con:
                con.execute(sa.text("select 1"))
        except Exception as exc:  # noqa: BLE001 - any driver error means "cannot connect"
            raise ValidationError(
                f"cannot connect to {target} at {self.host}:{self.port}/{self.database} as "
                f"{self.user}: {type(exc).__name__} (check {prefix}* settings)"
            ) from None

    def query(self, sql: str):
        import pandas as pd

        with self.engine.connect() as con:
            return pd.read_sql_query(sql, con)

    def close(self) -> None:
        self.engine.dispose()

    def datasource(self, context: Any) -> Any:
        # GX substitutes ${VAR} from the environment when it connects, so the password is
        # never part of the datasource config (nor of anything GX writes or prints).
        secret_var = "GST_GX_URL_PASSWORD"
        password = os.environ.get(self.password_var, "")
        os.environ[secret_var] = quote_plus(password)
        auth = f"{quote_plus(self.user)}:${{{secret_var}}}" if password else quote_plus(self.user)
        connection = f"{self.driver}://{auth}@{self.host}:{self.port}/{self.database}"
        adder = (
            context.data_sources.add_postgres
            if self.target == "postgres"
            else context.data_sources.add_redshift
        )
        return adder(name="warehouse", connection_string=connection)

    def batch(self, datasource: Any, name: str, sql: str) -> tuple[Any, dict | None]:
        asset = datasource.add_query_asset(name=name, query=sql)
        return asset.add_batch_definition_whole_table(name), None


def _columns(wh: Any, schema: str, table: str) -> list[str] | None:
    """The table's columns, or None when the table does not exist."""
    frame = wh.query(
        "select column_name from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
    )
    return list(frame["column_name"]) or None


def _poll_counts(wh: Any, relation: str, polls: int) -> list[tuple[str, datetime, int]]:
    """The newest `polls` polls of an observation table: (poll_id, observed_at, rows)."""
    frame = wh.query(
        f"select poll_id, max(observed_at) as observed_at, count(*) as row_count "
        f"from {relation} where poll_id is not null group by poll_id "
        f"order by max(observed_at) desc limit {int(polls)}"
    )
    out = []
    for row in frame.itertuples(index=False):
        moment = (
            row.observed_at.to_pydatetime()
            if hasattr(row.observed_at, "to_pydatetime")
            else row.observed_at
        )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        out.append((str(row.poll_id), moment, int(row.row_count)))
    return out


# --- expectations from the spec -----------------------------------------------------------------


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _range_label(column: str, lo: Any, hi: Any) -> str:
    if lo is not None and hi is not None:
        return f"{lo} <= {column} <= {hi}"
    return f"{column} >= {lo}" if lo is not None else f"{column} <= {hi}"


def _row_expectations(spec: dict, present: set[str]) -> list[Any]:
    """Column-level expectations over all rows, for the columns the table actually has
    (a missing column is reported once, by the column-set expectation)."""
    import great_expectations as gx

    exp = gx.expectations
    out: list[Any] = []
    for column in spec.get("not_null", []):
        if column in present:
            out.append(exp.ExpectColumnValuesToNotBeNull(column=column, meta={"label": column}))
    for column in spec.get("unique", []):
        if column in present:
            out.append(exp.ExpectColumnValuesToBeUnique(column=column, meta={"label": column}))
    for columns in spec.get("unique_together", []):
        if set(columns) <= present:
            out.append(
                exp.ExpectCompoundColumnsToBeUnique(
                    column_list=list(columns), meta={"label": ", ".join(columns)}
                )
            )
    for column, bounds in (spec.get("ranges") or {}).items():
        if column in present:
            lo, hi = bounds.get("min"), bounds.get("max")
            out.append(
                exp.ExpectColumnValuesToBeBetween(
                    column=column,
                    min_value=lo,
                    max_value=hi,
                    meta={"label": _range_label(column, lo, hi)},
                )
            )
    return out


def _expected_columns(spec: dict) -> list[str]:
    if spec.get("columns"):
        return list(spec["columns"])
    named = [*spec.get("not_null", []), *spec.get("unique", []), *(spec.get("ranges") or {})]
    for columns in spec.get("unique_together", []):
        named.extend(columns)
    return list(dict.fromkeys(named))


def _checked_columns(spec: dict, present: set[str]) -> list[str]:
    return [
        c
        for c in _expected_columns({k: v for k, v in spec.items() if k != "columns"})
        if c in present
    ]


@dataclass
class _Plan:
    """The batches of one table and the expectations of each."""

    table: str
    batches: list[tuple[str, str, list[Any]]] = field(default_factory=list)  # (kind, sql, exps)
    notes: list[CheckResult] = field(default_factory=list)


def _plan_table(
    wh: Any, table: str, spec: dict, layer: str, newest: datetime | None, checks: dict
) -> _Plan:
    import great_expectations as gx

    exp = gx.expectations
    plan = _Plan(table)
    schema, name = table.split(".", 1)
    columns = _columns(wh, schema, name)
    if columns is None:
        if layer == "gold":
            plan.notes.append(CheckResult(table, "table exists", True, "not built yet", True))
        else:
            plan.notes.append(CheckResult(table, "table exists", False, "table not found"))
        return plan
    present = set(columns)
    checked = _checked_columns(spec, present)
    if checked:
        select = ", ".join(f'"{c}"' for c in checked)
        plan.batches.append(
            ("rows", f"select {select} from {table}", _row_expectations(spec, present))
        )

    expected = _expected_columns(spec)
    schema_exp = exp.ExpectTableColumnsToMatchSet(
        column_set=expected, exact_match=False, meta={"label": "columns"}
    )
    polls = spec.get("polls")
    if not polls or "poll_id" not in present or "observed_at" not in present:
        plan.batches.append(("columns", f"select * from {table} where 1 = 0", [schema_exp]))
        return plan

    previous = int(checks.get("volume_previous_polls", 6))
    recent = _poll_counts(wh, table, previous + 1)
    if not recent:
        record = _poll_record(wh, schema, name)
        freshness = _freshness(exp, polls, newest)
        if record is not None and freshness is not None:
            # polled, and nobody was there: fresh as long as the polls are
            plan.notes.append(CheckResult(table, "has rows", True, "every poll saw none", True))
            plan.batches.append(("poll_record", record, [freshness]))
        else:
            plan.notes.append(CheckResult(table, "has polls", False, "table has no rows"))
        plan.batches.append(("columns", f"select * from {table} where 1 = 0", [schema_exp]))
        return plan
    latest_id, _latest_at, _ = recent[0]
    poll_exps = [schema_exp]
    freshness = _freshness(exp, polls, newest)
    record = _poll_record(wh, schema, name)
    if freshness is not None and record is not None:
        # judged on the polls themselves: a poll that ran and saw nobody live is healthy
        plan.batches.append(("poll_record", record, [freshness]))
    elif freshness is not None:
        poll_exps.append(freshness)
    min_polls = int(checks.get("volume_min_polls", 3))
    if len(recent) >= min_polls:
        median = statistics.median(count for _, _, count in recent[1:])
        lo_f, hi_f = checks.get("volume_band", [0.5, 2.0])
        lo, hi = int(median * lo_f), int(median * hi_f + 0.999999)
        poll_exps.append(
            exp.ExpectTableRowCountToBeBetween(
                min_value=lo,
                max_value=hi,
                meta={
                    "label": f"latest poll rows {lo:,}..{hi:,} = {lo_f:g}..{hi_f:g} x median "
                    f"{_number(median)} of {len(recent) - 1} previous polls"
                },
            )
        )
    else:
        plan.notes.append(
            CheckResult(
                table,
                "expect_table_row_count_to_be_between(latest poll volume)",
                True,
                f"skipped: {len(recent)} polls, volume needs {min_polls}",
                True,
            )
        )
    latest = latest_id.replace("'", "''")
    plan.batches.append(
        ("latest_poll", f"select * from {table} where poll_id = '{latest}'", poll_exps)
    )
    return plan


def _freshness(exp: Any, polls: dict, newest: datetime | None) -> Any:
    """The latest poll is at most `freshness_hours` older than the newest poll of any platform."""
    if newest is None:
        return None
    hours = float(polls.get("freshness_hours", 3))
    threshold = newest - timedelta(hours=hours)
    return exp.ExpectColumnMinToBeBetween(
        column="observed_at",
        min_value=threshold,
        meta={
            "label": f"latest poll observed_at >= newest poll - {hours:g}h = "
            f"{threshold:%Y-%m-%d %H:%M}Z"
        },
    )


def _poll_record(wh: Any, schema: str, name: str) -> str | None:
    """SQL for the newest poll of `schema.name` in the loaders' per-poll record
    (`<schema>.polls`, one row per poll and table, written even when a poll sees nothing), or
    None for a warehouse without one (rows written by other means: the table's own polls)."""
    columns = _columns(wh, schema, POLL_RECORD)
    if not columns or not {"table_name", "observed_at"} <= set(columns):
        return None
    where = f"from {schema}.{POLL_RECORD} where table_name = '{name}'"
    if not int(wh.query(f"select count(*) as n {where}")["n"].iloc[0]):
        return None
    return f"select max(observed_at) as observed_at {where}"


def _newest_poll(wh: Any, specs: dict[str, dict]) -> datetime | None:
    """The newest observed_at of any observation table or poll record (the reference for
    freshness)."""
    newest = None
    relations = []
    for table, spec in specs.items():
        if not spec.get("polls"):
            continue
        schema, name = table.split(".", 1)
        columns = _columns(wh, schema, name)
        if columns and "observed_at" in columns:
            relations.append(table)
        if _poll_record(wh, schema, name) is not None:
            relations.append(f"{schema}.{POLL_RECORD}")
    for relation in dict.fromkeys(relations):
        value = wh.query(f"select max(observed_at) as m from {relation}")["m"].iloc[0]
        if value is None or value != value:  # None or NaT
            continue
        moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        newest = moment if newest is None else max(newest, moment)
    return newest


# --- results ------------------------------------------------------------------------------------


def _detail(result: Any) -> str:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "error").splitlines()[0]
        return f"error: {message[:200]}"
    payload = result.result or {}
    etype = result.expectation_config.type
    if etype in MAP_EXPECTATIONS and "element_count" in payload:
        unexpected = payload.get("unexpected_count") or 0
        return f"{unexpected:,} of {payload['element_count']:,} rows"
    if etype == "expect_table_columns_to_match_set":
        missing = ((payload.get("details") or {}).get("mismatched") or {}).get("missing") or []
        return f"missing columns: {', '.join(missing)}" if missing else "all columns present"
    observed = payload.get("observed_value")
    if isinstance(observed, datetime) or hasattr(observed, "isoformat"):
        return f"observed {observed:%Y-%m-%d %H:%M}Z"
    if isinstance(observed, int | float):
        return f"observed {_number(observed)}"
    return f"observed {observed}"


def _label(result: Any) -> str:
    config = result.expectation_config
    label = (config.meta or {}).get("label") or config.kwargs.get("column") or ""
    return f"{config.type}({label})"


@contextmanager
def _warehouse(target: str, path: Path | None) -> Iterator[Any]:
    wh = _DuckDB(path or warehouse.duckdb_path()) if target == "duckdb" else _Sql(target)
    try:
        yield wh
    finally:
        wh.close()


def _context(docs_dir: Path | None) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="gst",
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
    return context


def run_checks(
    suite: str,
    target: str = "duckdb",
    *,
    docs_dir: Path | str | None = DEFAULT_DOCS_DIR,
    duckdb_file: Path | str | None = None,
    checks: dict[str, Any] | None = None,
) -> ValidationReport:
    """Run the checkpoints of `suite` on `target` and return the report (no ledger, no alert)."""
    import great_expectations as gx

    if suite not in SUITES:
        raise ValidationError(f"unknown suite {suite!r}: choose one of {', '.join(SUITES)}")
    if target not in TARGETS:
        raise ValidationError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    checks = checks or load_checks()
    layers = ["raw", "gold"] if suite == "all" else [suite]
    report = ValidationReport(suite, target)
    docs = Path(docs_dir).resolve() if docs_dir is not None else None
    context = _context(docs)
    with _warehouse(target, Path(duckdb_file) if duckdb_file else None) as wh:
        newest = _newest_poll(wh, checks.get("raw") or {})
        datasource = wh.datasource(context)
        for layer in layers:
            for table, spec in (checks.get(layer) or {}).items():
                plan = _plan_table(wh, table, spec or {}, layer, newest, checks)
                report.results.extend(plan.notes)
                for kind, sql, expectations in plan.batches:
                    if not expectations:
                        continue
                    name = f"{table}.{kind}"
                    batch_definition, parameters = wh.batch(datasource, name, sql)
                    gx_suite = context.suites.add(gx.ExpectationSuite(name=name))
                    for expectation in expectations:
                        gx_suite.add_expectation(expectation)
                    definition = context.validation_definitions.add(
                        gx.ValidationDefinition(name=name, data=batch_definition, suite=gx_suite)
                    )
                    checkpoint = context.checkpoints.add(
                        gx.Checkpoint(
                            name=f"{layer}:{name}",
                            validation_definitions=[definition],
                            result_format={"result_format": "SUMMARY"},
                        )
                    )
                    outcome = checkpoint.run(batch_parameters=parameters)
                    for run in outcome.run_results.values():
                        for result in run.results:
                            report.results.append(
                                CheckResult(
                                    table, _label(result), bool(result.success), _detail(result)
                                )
                            )
    if docs is not None:
        docs.mkdir(parents=True, exist_ok=True)
        context.build_data_docs(site_names=["gst"])
        report.docs_index = docs / "index.html"
    return report


def validate(
    suite: str,
    target: str = "duckdb",
    *,
    docs_dir: Path | str | None = DEFAULT_DOCS_DIR,
    duckdb_file: Path | str | None = None,
    record: bool = True,
) -> ValidationReport:
    """Validate `suite` ("raw", "gold" or "all") on `target`.

    With `record` (default) the run gets a row in ops.run_ledger (kind "validate") and a
    failed validation posts an alert (see loaders.alerts). The pipeline checks
    `report.success` before rebuilding gold."""
    if not record:
        return run_checks(suite, target, docs_dir=docs_dir, duckdb_file=duckdb_file)
    from loaders import alerts, ledger

    with ledger.run("validate", target, duckdb_file=duckdb_file, alert=False) as entry:
        report = run_checks(suite, target, docs_dir=docs_dir, duckdb_file=duckdb_file)
        entry.update(
            status="success" if report.success else "failed",
            failures=len(report.failures),
            validation_result=report.summary(),
            message="; ".join(report.failure_lines()[:20]) or None,
        )
    if not report.success:
        alerts.notify(
            "validation_failed",
            report.summary(),
            {"suite": suite, "target": target, "failures": report.failure_lines()[:20]},
        )
    return report


def print_report(report: ValidationReport, console: Any = None) -> None:
    """Per table and expectation pass/fail/skip lines, the failures, then the one-line summary."""
    from rich.console import Console
    from rich.markup import escape

    console = console or Console(soft_wrap=True)
    current = None
    for r in report.results:
        if r.table != current:
            current = r.table
            console.print(f"[bold]{escape(r.table)}[/bold]")
        mark = (
            "[yellow]skip[/yellow]"
            if r.skipped
            else "[green]pass[/green]"
            if r.success
            else "[red]FAIL[/red]"
        )
        detail = f"  ({escape(r.detail)})" if r.detail else ""
        console.print(f"  {mark} {escape(r.expectation)}{detail}")
    for line in report.failure_lines():
        console.print(f"[red]{escape(line)}[/red]")
    if report.docs_index is not None:
        console.print(f"Data Docs: {report.docs_index}")
    console.print(("[green]" if report.success else "[red]") + escape(report.summary()))
