"""Redshift readiness of the dbt project.

The checker (tools/redshift_check.py) is tested on SQL strings everywhere; the project itself
is compiled for the redshift target (dbt-redshift talking to PostgreSQL through the
PgAsRedshift proxy) and every compiled model and test is checked, when GST_TEST_POSTGRES=1.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from tools.redshift_check import (
    CheckError,
    PgAsRedshift,
    check_compiled,
    compile_via_postgres,
    find_unsupported,
    rewrite_server_message,
    rewrite_startup,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]


def constructs(sql: str) -> list[str]:
    return [finding.construct for finding in find_unsupported(sql, "m")]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select distinct on (channel_id) channel_id, observed_at from t", "DISTINCT ON"),
        (
            "select count(*) filter (where viewer_count > 0) as live_count from t",
            "FILTER (WHERE ...) on an aggregate",
        ),
        ("select array[1, 2] as ids from t", "ARRAY literal"),
        ("select game_id from t where game_id = any(array['1', '2'])", "ARRAY literal"),
        ("select array_agg(game_id) from t group by channel_id", "array function arrayagg"),
        ("select unnest(tags) as tag from t", "array function explode"),
        ("select cast(tags as text[]) from t", "array type"),
        ("select regexp_split_to_table(tags, ',') from t", "regexp_split_to_table() (arrays)"),
        (
            "select t.id, g.h from t cross join generate_series(t.a, t.b) as g(h)",
            "generate_series over tables (leader-node only)",
        ),
        ("select a from t where a is distinct from b", "IS [NOT] DISTINCT FROM"),
        ("select * from t cross join lateral (select t.a + 1 as b) as x", "LATERAL"),
        (
            "select sum(v) over (order by ts range between interval '1 hour' preceding "
            "and current row) from t",
            "RANGE window frame with an offset",
        ),
    ],
)
def test_flags_constructs_redshift_lacks(sql, expected):
    assert expected in constructs(sql)


@pytest.mark.parametrize(
    "sql",
    [
        # QUALIFY is supported by Redshift since 2023; `::` casts and listagg are native.
        "select channel_id::varchar as c, listagg(game_name, ',') within group (order by 1) "
        "from t as s group by 1 qualify row_number() over (partition by c order by c) = 1",
        "select sum(case when v > 0 then 1 else 0 end) as live_count from t",
        "select sum(v) over (partition by c order by ts rows between 3 preceding and current row) "
        "from t",
        "select cast(convert_timezone('UTC', observed_at) as timestamp) from t",
        "select * from generate_series(1, 24) as g(h)",  # leader-node only, but legal alone
        "select distinct channel_id from t",
    ],
)
def test_accepts_redshift_sql(sql):
    assert constructs(sql) == []


def test_finding_names_model_and_snippet():
    [finding] = find_unsupported("select distinct on (a) a from t", "gold/fct_x.sql")
    assert str(finding).startswith("gold/fct_x.sql: DISTINCT ON is not supported by Redshift")
    assert "DISTINCT ON (a)" in str(finding)


def test_check_compiled_flags_a_model_file(tmp_path):
    models = tmp_path / "proj" / "models" / "marts"
    models.mkdir(parents=True)
    (models / "ok.sql").write_text("select a from t")
    (models / "bad.sql").write_text(
        "with x as (select distinct on (a) a, b from t)\n"
        "select count(*) filter (where b > 1) from x"
    )
    findings = check_compiled(tmp_path)
    assert sorted(f.construct for f in findings) == [
        "DISTINCT ON",
        "FILTER (WHERE ...) on an aggregate",
    ]
    assert {f.model for f in findings} == {"proj/models/marts/bad.sql"}


def test_check_compiled_without_models_is_an_error(tmp_path):
    with pytest.raises(CheckError, match="no compiled models"):
        check_compiled(tmp_path)


def test_unparsable_sql_is_an_error_naming_the_model():
    with pytest.raises(CheckError, match="broken.sql: cannot parse"):
        find_unsupported("select (a from", "broken.sql")


def _startup(pairs: dict[bytes, bytes]) -> bytes:
    body = struct.pack("!i", 196608)
    body += b"".join(k + b"\0" + v + b"\0" for k, v in pairs.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def test_proxy_drops_redshift_startup_parameters():
    original = _startup(
        {
            b"user": b"gst",
            b"database": b"gst",
            b"client_protocol_version": b"2",
            b"driver_version": b"Redshift Python Driver 2.1",
            b"os_version": b"Linux",
            b"driver_discovery_version": b"1",
            b"application_name": b"dbt",
        }
    )
    rewritten = rewrite_startup(original)
    assert rewritten == _startup(
        {b"user": b"gst", b"database": b"gst", b"application_name": b"dbt"}
    )
    assert struct.unpack("!i", rewritten[:4])[0] == len(rewritten)


def test_proxy_reports_redshift_server_version():
    out = rewrite_server_message(b"S", b"server_version\x0015.8\x00", b"8.0.2")
    assert out == b"S" + struct.pack("!i", 4 + 21) + b"server_version\x008.0.2\x00"
    other = b"client_encoding\x00UTF8\x00"
    assert rewrite_server_message(b"S", other, b"8.0.2") == b"S" + struct.pack("!i", 4 + 21) + other


needs_postgres = pytest.mark.skipif(
    os.environ.get("GST_TEST_POSTGRES") != "1",
    reason="compiling for the redshift target needs a server: set GST_TEST_POSTGRES=1 and "
    "GST_PG_HOST/PORT/USER/DATABASE (.ci/run does)",
)


@pytest.fixture(scope="module")
def compiled_for_redshift(tmp_path_factory):
    target = tmp_path_factory.mktemp("redshift-target")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GST_REDSHIFT_")}
    return compile_via_postgres(PROJECT_DIR, target, env)


@pytest.mark.postgres
@needs_postgres
def test_proxy_lets_the_redshift_driver_connect():
    import redshift_connector

    env = os.environ
    with PgAsRedshift(env.get("GST_PG_HOST", "127.0.0.1"), int(env.get("GST_PG_PORT", 5432))) as p:
        conn = redshift_connector.connect(
            host="127.0.0.1",
            port=p.port,
            user=env.get("GST_PG_USER", "postgres"),
            password=env.get("GST_PG_PASSWORD", ""),
            database=env.get("GST_PG_DATABASE", "gst"),
            ssl=False,
        )
        try:
            cursor = conn.cursor()
            cursor.execute("select 40 + 2")
            assert cursor.fetchone()[0] == 42
            assert str(conn._server_version) == "8.0.2"
        finally:
            conn.close()


@pytest.mark.postgres
@needs_postgres
def test_every_model_compiles_to_redshift_sql_without_unsupported_constructs(
    compiled_for_redshift,
):
    manifest = json.loads((compiled_for_redshift.parent / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "redshift"
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    compiled = {
        str(p.relative_to(compiled_for_redshift))
        for p in compiled_for_redshift.glob("*/models/**/*.sql")
    }
    missing = [m["original_file_path"] for m in models if _compiled_path(m) not in compiled]
    assert not missing, f"models not compiled for redshift: {missing}"

    findings = check_compiled(compiled_for_redshift)
    assert not findings, "Redshift lacks:\n" + "\n".join(map(str, findings))


def _compiled_path(node: dict) -> str:
    return f"{node['package_name']}/{node['original_file_path']}"


@pytest.mark.postgres
@needs_postgres
def test_redshift_dispatch_is_what_got_compiled(compiled_for_redshift):
    """The adapter-dispatched macros render their redshift__ versions (so the check above
    inspected real Redshift SQL, not the PostgreSQL flavour)."""
    macro = (PROJECT_DIR / "macros" / "to_utc.sql").read_text()
    assert "redshift__to_utc" in macro
    texts = [p.read_text() for p in compiled_for_redshift.glob("*/models/staging/**/*.sql")]
    assert any("convert_timezone('UTC'" in t for t in texts)
    assert not any("at time zone 'UTC'" in t for t in texts)
