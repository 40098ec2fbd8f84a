"""Small helpers every platform source shares: poll identity, time, JSON parsing, quarantine.

Kept deliberately small: HTTP retries/backoff come from dlt's RESTClient and retrying
session, loading from dlt; this module only holds what the four APIs have in common.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

KST = timezone(timedelta(hours=9))
PLATFORMS = ("chzzk", "soop", "twitch", "steam")

_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\((?P<body>.*)\)\s*;?\s*$", re.S)


class BadPayload(ValueError):
    """A response or item that cannot be loaded; carries where it came from and why."""

    def __init__(self, platform: str, endpoint: str, reason: str, field: str | None = None):
        self.platform, self.endpoint, self.reason, self.field = platform, endpoint, reason, field
        where = f"{platform} {endpoint}" + (f" field '{field}'" if field else "")
        super().__init__(f"{where}: {reason}")


def observed_at_from_response(response: Any) -> datetime:
    """UTC instant of a response from its HTTP `Date` header; the local clock if absent."""
    header = getattr(response, "headers", {}).get("Date") if response is not None else None
    if header:
        try:
            return parsedate_to_datetime(header).astimezone(timezone.utc)
        except (TypeError, ValueError):
            pass
    return datetime.now(timezone.utc).replace(microsecond=0)


def poll_id(platform: str, observed_at: datetime) -> str:
    """Deterministic id of one poll of one platform: re-running the same poll gives the same id."""
    return f"{platform}:{observed_at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def kst_to_utc(text: str | None) -> datetime | None:
    """'2025-11-26 17:53:01' in Korea time (no offset, as Chzzk and SOOP send it) -> UTC."""
    if text is None or str(text).strip() == "":
        return None
    value = datetime.strptime(str(text).strip(), "%Y-%m-%d %H:%M:%S")
    return value.replace(tzinfo=KST).astimezone(timezone.utc)


def parse_json(text: str, platform: str, endpoint: str) -> Any:
    """Parse a body as JSON, stripping a JSONP wrapper; a clear BadPayload otherwise."""
    if text is None or not text.strip():
        raise BadPayload(platform, endpoint, "empty response body")
    stripped = text.lstrip()
    if stripped[:1] == "<":
        raise BadPayload(platform, endpoint, "HTML page instead of JSON (status 200)")
    match = _JSONP.match(text)
    if match and stripped[:1] not in "{[":
        text = match.group("body")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadPayload(platform, endpoint, f"malformed JSON ({exc.msg} at char {exc.pos})") from exc


@dataclass(frozen=True)
class Quarantined:
    """One rejected page or item, kept with the reason so nothing is silently dropped."""

    platform: str
    endpoint: str
    reason: str
    payload: str
    poll_id: str | None
    observed_at: datetime | None

    def as_row(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "endpoint": self.endpoint,
            "reason": self.reason,
            "payload": self.payload[:100_000],
            "poll_id": self.poll_id,
            "observed_at": self.observed_at,
            "quarantined_at": datetime.now(timezone.utc),
        }
