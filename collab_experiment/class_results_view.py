"""`/ClassResults/<session code>`: the class's own results on the projector, for the
signed-in instructor only (an oTree admin view: with OTREE_AUTH_LEVEL=STUDY it asks for
the admin login like every other admin page; listed in `instructor.ADMIN_VIEWS`).

Thin: two queries (the session's players and participants, as plain rows: nothing is
loaded as an ORM object, so looking writes nothing back), then `class_results.py`.
While students are still answering, the page says how many and shows the results only
with `?anyway=1` (results seen mid-session would contaminate the rest of the class).
The page is in the session's language; every text comes from the instrument files.
No pandas here: the numbers come from `analysis.core`.
"""

from __future__ import annotations

import gzip

from starlette.responses import Response


import settings

from . import texts
from .otree_glue import AdminSessionPage, player_and_participant_rows


def session_rows(session) -> tuple[list[dict], dict]:
    """The session's player rows of this app and its participants, as plain dicts.

    Parameters
    ----------
    session : otree Session
    """
    from . import Player  # the app's model; imported late to avoid a cycle

    players, participants = player_and_participant_rows(Player, session)
    participants = {
        pid: dict(visited=bool(p["visited"]), consented=p["vars"].get("consented"), page=p["page"])
        for pid, p in participants.items()
    }
    return players, participants


def status(session) -> dict:
    """Finished students (as `class_results.student` rows) and how many are still answering.

    Parameters
    ----------
    session : otree Session
    """
    from . import class_results

    return class_results.class_status(*session_rows(session))


def report_vars(session) -> dict:
    """What the Report tab needs for its "Show the class its results" button.

    Parameters
    ----------
    session : otree Session
    """
    t = texts.load("en")["class_results"]
    in_progress = status(session)["in_progress"]
    return dict(class_results_url=f"/ClassResults/{session.code}",
                class_results_label=t["button"],
                class_results_warning=t["in_progress_note"].format(n=in_progress) if in_progress else "")


def programme_names(session, language: str) -> dict:
    """Programme code -> the name the class knows it by (the site's own names where set).

    Parameters
    ----------
    session : otree Session
    language : str
    """
    site = session.config.get("site") or None
    return texts.programme_labels(language, site, getattr(settings, "PROGRAMME_NAMES", {}))


def page(session, anyway: bool, url: str) -> str:
    """The HTML of the results page (or of the warning while students are answering).

    Parameters
    ----------
    session : otree Session
    anyway : bool
        Show the results even though students are still answering.
    url : str
        This page's path, for the "show anyway" link.
    """
    from . import class_results

    language = texts.normalise_language(session.config.get("language"))
    t = texts.load(language)
    now = status(session)
    if now["in_progress"] and not anyway:
        return class_results.render_warning(now["in_progress"], t, language, f"{url}?anyway=1")
    results = class_results.class_results(now["finished"])
    return class_results.render_page(results, t, language, programme_names(session, language))


class ClassResults(AdminSessionPage):
    """The class's results for the projector (admin login applies)."""

    def get(self, request, **kwargs):
        anyway = request.query_params.get("anyway") == "1"
        body = page(self.session, anyway, request.url.path).encode("utf-8")
        headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            # the charts repeat their markup: a tenth of the bytes over a lecture hall's Wi-Fi
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
