"""Download a session's data through oTree's REST API (no oTree import).

oTree 6 serves exports under the REST key: ``GET /api/export_wide?session_code=CODE``
(all-apps-wide CSV of that session) and ``GET /api/export_app_custom?app=APP&
session_code=CODE`` (an app's ``custom_export``). The key travels in the
``otree-rest-key`` header and is read from ``OTREE_REST_KEY``; with the server's
``OTREE_AUTH_LEVEL`` unset no key is needed.
"""
from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import AnalysisInputError
from .load import detect_kind


def fetch_session(server: str, session: str, out: str | Path, custom: bool = False,
                  app: str = "collab_experiment", timeout: float = 60) -> Path:
    """Save one session's export as CSV and check that it is an oTree export.

    Parameters
    ----------
    server : str
        Base URL, e.g. ``https://survey.example.org``.
    session : str
        The oTree session code.
    out : path
        Where to write the CSV.
    custom : bool
        Fetch the project's custom export instead of the all-apps-wide CSV.
    app : str
        The app whose custom export is fetched (with ``custom``).
    timeout : float
        Seconds to wait for the server.
    """
    base = server.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise AnalysisInputError(server, "server must be an http:// or https:// URL")
    if custom:
        query = urllib.parse.urlencode({"app": app, "session_code": session})
        url = f"{base}/api/export_app_custom?{query}"
    else:
        url = f"{base}/api/export_wide?{urllib.parse.urlencode({'session_code': session})}"
    headers = {"Accept": "text/csv"}
    key = os.environ.get("OTREE_REST_KEY")
    if key:
        headers["otree-rest-key"] = key
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip().splitlines()
        hint = " (set OTREE_REST_KEY?)" if exc.code in (401, 403) else ""
        raise AnalysisInputError(url, f"HTTP {exc.code}: {detail[0] if detail else exc.reason}{hint}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise AnalysisInputError(url, f"cannot reach the server ({getattr(exc, 'reason', exc)})") from None
    text = body.decode("utf-8-sig", "replace")
    header = text.splitlines()[0] if text.strip() else ""
    if detect_kind(c.strip().strip('"') for c in header.split(",")) is None:
        raise AnalysisInputError(url, "the server did not return an oTree CSV export")
    if len(text.strip().splitlines()) < 2:
        raise AnalysisInputError(url, f"session {session!r} has no participant rows (is the code right?)")
    path = Path(out)
    path.write_bytes(body)
    return path
