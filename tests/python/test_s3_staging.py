"""The redshift target's S3 staging, against moto's standalone S3 server and the simulator.

`--target redshift` loads through dlt's filesystem staging: parquet files to
GST_REDSHIFT_STAGING_BUCKET, then one COPY per file. Offline there is no Redshift to COPY
into, so these tests run the staging half for real (the filesystem destination configured
exactly as loaders.pipeline configures the redshift target's staging), check that the redshift
pipeline normalizes to parquet, and render dlt's COPY statement for an uploaded file.
"""

from __future__ import annotations

import io
import socket

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("moto.server", reason="moto[server] is a test dependency (pyproject dev)")

BUCKET = "gst-staging"
PREFIX = "bronze"
KEY_ID, SECRET = "AKIAGSTTESTKEY000000", "gst-test-secret-never-logged"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch, tmp_path):
    """A fresh bucket and the environment the redshift target reads (AWS keys via env)."""
    import boto3

    env = {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "GST_REDSHIFT_STAGING_BUCKET": f"s3://{BUCKET}/{PREFIX}",
        "GST_REDSHIFT_STAGING_ENDPOINT_URL": s3_server,
        "GST_PIPELINES_DIR": str(tmp_path / "pipelines"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GST_REDSHIFT_IAM_ROLE", raising=False)
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def simulator(monkeypatch):
    from simulator.server import Simulator

    with Simulator(seed=7, channels=25, start="2026-11-02T12:00:00Z") as sim:
        for key, value in sim.env(official=False).items():
            monkeypatch.setenv(key, value)
        yield sim


def _keys(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def _staging_pipeline(platform: str):
    """The redshift target's staging destination as a pipeline of its own."""
    import dlt

    from loaders.pipeline import destination

    _, staging, pipelines_dir = destination("redshift")
    return dlt.pipeline(
        pipeline_name=f"gst_{platform}_staging",
        destination=staging,
        dataset_name=f"raw_{platform}",
        pipelines_dir=str(pipelines_dir),
    )


def test_redshift_target_configures_s3_staging(s3, monkeypatch):
    from loaders.pipeline import destination

    dest, staging, _ = destination("redshift")
    assert dest.destination_type.endswith("redshift")
    assert staging.destination_type.endswith("filesystem")
    assert staging.config_params["bucket_url"] == f"s3://{BUCKET}/{PREFIX}"
    assert staging.config_params["credentials"].endpoint_url.startswith("http://127.0.0.1:")
    assert dest.config_params.get("staging_iam_role") is None

    role = "arn:aws:iam::123456789012:role/gst-redshift-copy"
    monkeypatch.setenv("GST_REDSHIFT_IAM_ROLE", role)
    monkeypatch.delenv("GST_REDSHIFT_STAGING_ENDPOINT_URL")
    dest, staging, _ = destination("redshift")
    assert dest.config_params["staging_iam_role"] == role
    assert staging.config_params.get("credentials") is None  # plain AWS S3: default chain


def test_redshift_pipeline_normalizes_observations_to_parquet(s3, simulator):
    from loaders.pipeline import make_pipeline, make_source

    pipeline = make_pipeline("chzzk", "redshift")
    assert pipeline.staging is not None
    pipeline.extract(make_source("chzzk"))
    info = pipeline.normalize()
    formats = {
        job.job_file_info.table_name: job.job_file_info.file_format
        for package in info.load_packages
        for job in package.jobs["new_jobs"]
    }
    assert formats["lives"] == "parquet"  # COPY ... FORMAT PARQUET, typed columns
    assert all(fmt == "parquet" for table, fmt in formats.items() if not table.startswith("_dlt"))
    assert _keys(s3) == []  # nothing leaves the machine before the load step


def test_staging_files_land_in_the_bucket(s3, simulator):
    import pyarrow.parquet as pq

    from loaders.pipeline import make_source

    pipeline = _staging_pipeline("chzzk")
    info = pipeline.run(make_source("chzzk"))
    info.raise_on_failed_jobs()
    [load_id] = info.loads_ids
    rows = pipeline.last_trace.last_normalize_info.row_counts["lives"]
    assert rows > 0

    keys = _keys(s3)
    lives = [k for k in keys if k.startswith(f"{PREFIX}/raw_chzzk/lives/")]
    # dlt's layout: <bucket_url>/<dataset>/<table>/<load_id>.<file_id>.<ext>
    assert lives and all(k.endswith(".parquet") for k in lives)
    assert all(k.split("/")[-1].startswith(f"{load_id}.") for k in lives)
    assert f"{PREFIX}/raw_chzzk/_dlt_loads/chzzk__{load_id}.jsonl" in keys

    tables = [
        pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read())) for k in lives
    ]
    assert sum(t.num_rows for t in tables) == rows
    columns = set(tables[0].column_names)
    contract = {"poll_id", "observed_at", "channel_id", "concurrent_user_count", "raw_item"}
    assert contract | {"_dlt_load_id", "_dlt_id"} <= columns
    assert set(tables[0].column("_dlt_load_id").to_pylist()) == {load_id}

    # a second poll adds files next to the first; nothing is overwritten
    simulator.advance(10)
    second = pipeline.run(make_source("chzzk"))
    second.raise_on_failed_jobs()
    after = [k for k in _keys(s3) if k.startswith(f"{PREFIX}/raw_chzzk/lives/")]
    assert set(lives) < set(after)


def _copy_sql(tmp_path, bucket_path: str, iam_role: str | None, credentials) -> str:
    """dlt's COPY statement for one staged file (RedshiftCopyFileLoadJob with a recording
    SQL client in place of a cluster connection)."""
    import contextlib

    from dlt.destinations.impl.redshift.redshift import RedshiftCopyFileLoadJob

    reference = tmp_path / "lives.0123456789.0.reference"
    reference.write_text(bucket_path)
    statements: list[str] = []

    class Recorder:
        def begin_transaction(self):
            return contextlib.nullcontext()

        def execute_sql(self, sql: str) -> None:
            statements.append(sql)

        def make_qualified_table_name(self, name: str) -> str:
            return f'"raw_chzzk"."{name}"'

    class Client:
        sql_client = Recorder()

    job = RedshiftCopyFileLoadJob(str(reference), credentials, staging_iam_role=iam_role)
    job.set_run_vars("1", None, {"name": "lives", "columns": {}})
    job._job_client = Client()
    job.run()
    [sql] = statements
    return " ".join(sql.split())


def test_copy_statement_for_a_staged_file(s3, simulator, tmp_path):
    from dlt.common.configuration.specs import AwsCredentials

    from loaders.pipeline import make_source

    _staging_pipeline("chzzk").run(make_source("chzzk")).raise_on_failed_jobs()
    key = next(k for k in _keys(s3) if k.startswith(f"{PREFIX}/raw_chzzk/lives/"))
    path = f"s3://{BUCKET}/{key}"

    role = "arn:aws:iam::123456789012:role/gst-redshift-copy"
    sql = _copy_sql(tmp_path, path, role, None)
    assert sql.startswith(f'COPY "raw_chzzk"."lives" FROM \'{path}\' PARQUET')
    assert f"IAM_ROLE '{role}'" in sql and "MAXERROR 0" in sql
    assert "aws_secret_access_key" not in sql

    keys = AwsCredentials()
    keys.aws_access_key_id, keys.aws_secret_access_key = KEY_ID, SECRET
    sql = _copy_sql(tmp_path, path, None, keys)
    assert f"CREDENTIALS 'aws_access_key_id={KEY_ID};aws_secret_access_key=" in sql
