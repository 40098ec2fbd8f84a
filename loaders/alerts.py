"""Operational alerts: a Slack-compatible webhook POST on failed loads, failed validations and
schema drift detected by dlt.

The webhook URL comes from the environment variable GST_ALERT_WEBHOOK_URL or dlt config
`alerts.webhook_url` (.dlt/config.toml / secrets.toml). Without one, alerts are only logged.
`notify` never raises and never sends or logs secret values: every text is passed through
`redact`, which masks the values of secret-looking environment variables and URL passwords.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_?KEY|ACCESS_KEY|CREDENTIAL|WEBHOOK)", re.I)
URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+):(?P<pw>[^@\s]+)@", re.I)
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words


def _secret_values() -> list[str]:
    values = {
        value
        for name, value in os.environ.items()
        if SECRET_NAME.search(name) and value and len(value) >= MIN_SECRET_CHARS
    }
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with secret environment values and URL passwords replaced by '***'."""
    for value in _secret_values():
        text = text.replace(value, "***")
    return URL_PASSWORD.sub(r"\g<scheme>:***@", text)


def webhook_url() -> str | None:
    url = os.environ.get("GST_ALERT_WEBHOOK_URL")
    if url:
        return url
    try:
        import dlt

        return dlt.config.get("alerts.webhook_url", str) or None
    except Exception:  # noqa: BLE001 - no config is the same as no webhook
        return None


def payload(event: str, message: str, details: dict | None = None) -> dict[str, Any]:
    """The Slack-compatible body: `text` for every receiver, `blocks` for Slack's layout."""
    text = redact(f"[gst] {event}: {message}")
    body: dict[str, Any] = {"text": text, "event": event}
    fields = []
    for key, value in (details or {}).items():
        shown = "\n".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        fields.append({"type": "mrkdwn", "text": redact(f"*{key}*\n{shown}")[:1900]})
    body["blocks"] = [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]
    if fields:
        body["blocks"].append({"type": "section", "fields": fields[:10]})
    return body


def notify(event: str, message: str, details: dict | None = None) -> bool:
    """Post an alert; True when a webhook accepted it. Never raises."""
    try:
        body = payload(event, message, details)
        log.warning("%s", body["text"])
        url = webhook_url()
        if not url:
            return False
        import requests

        response = requests.post(
            url,
            data=json.dumps(body, default=str),
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        if response.status_code >= 300:
            log.warning("alert webhook answered HTTP %s", response.status_code)
            return False
        return True
    except Exception as exc:  # noqa: BLE001 - an alert must never break the run it reports
        log.warning("alert not sent: %s", type(exc).__name__)
        return False


def schema_drift(load_info: Any) -> dict[str, list[str]]:
    """Columns dlt added to tables that already existed, per table, from a dlt LoadInfo.

    A new table arrives in a package's schema update with all its columns, `_dlt_id` included;
    a table that existed before only with the columns that are new, which is drift (as are
    variant columns `<name>__v_<type>` created when a value's type changed)."""
    drift: dict[str, list[str]] = {}
    for package in getattr(load_info, "load_packages", None) or []:
        for table, update in (getattr(package, "schema_update", None) or {}).items():
            if table.startswith("_dlt"):
                continue
            columns = list((update or {}).get("columns") or {})
            if not columns:
                continue
            is_new_table = "_dlt_id" in columns or "_dlt_load_id" in columns
            added = [c for c in columns if "__v_" in c] if is_new_table else columns
            known = drift.setdefault(table, [])
            known.extend(c for c in added if c not in known)
    return {table: cols for table, cols in drift.items() if cols}


def notify_schema_drift(load_info: Any, platform: str | None = None) -> bool:
    """Alert when a dlt load changed the schema of existing tables; False when nothing drifted
    or no webhook took the alert."""
    drift = schema_drift(load_info)
    if not drift:
        return False
    where = f" in {platform}" if platform else ""
    summary = "; ".join(f"{table}: +{', '.join(cols)}" for table, cols in sorted(drift.items()))
    return notify(
        "schema_drift",
        f"dlt changed the schema of existing tables{where}: {summary}",
        {"tables": sorted(drift)},
    )
