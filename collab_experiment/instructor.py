"""The instructor's screens: a projector view with a QR code, and live counts.

oTree has no public hook for extra admin pages: `ADMIN_VIEWS` declares this module's
views, and `otree_glue.install()` lists them among oTree's built-in admin views before
oTree builds its route table. They then get oTree's login rules unchanged: with
OTREE_AUTH_LEVEL=STUDY they ask for the admin login like every other admin page.

Everything shown is a count from `dashboard.py` (class totals exact, small counts per
programme or cell masked), how many are still answering (`dashboard.still_answering`,
the rule the Report tab and the results page use) or the students' link; no page here shows
a participant code, a name or an answer.
"""

from __future__ import annotations

import html
import json
import os
from urllib.parse import urlsplit, urlunsplit

import segno
from starlette.responses import HTMLResponse, JSONResponse, Response

from analysis import contract, deployment

from . import dashboard, texts
from .class_results_view import ClassResults
from .otree_glue import AdminSessionPage, anonymous_code, player_and_participant_rows


def participant_rows(session) -> list[dict]:
    """One plain dict per participant of the session: flow flags and the fields counted.

    Two queries, rows rather than ORM objects (`otree_glue.player_and_participant_rows`, as
    the class results page reads them).
    """
    from . import Player  # the app's model; imported late to avoid a cycle

    players, participants = player_and_participant_rows(Player, session)
    rows = []
    for player in players:
        participant = participants[player["participant_id"]]
        consented = participant["vars"].get("consented")
        rows.append(dict(
            joined=bool(participant["visited"]),
            consented=None if consented is None else bool(consented),  # None: not answered yet
            last_seen=participant["last_request"],
            finished=bool(player["completed"]),
            withdrawn=bool(player["withdrawn"]),  # counted as finished
            page=participant["page"],  # for `dashboard.still_answering`
            programme=player["programme"],
            manager=player["manager"],
            partner=player["partner"],
            attention_pass=player["attention_pass"],
            mc_manager_correct=player["mc_manager_correct"],
            mc_partner_correct=player["mc_partner_correct"],
            autonomy=contract.scale_score(player[i] for i in contract.SCALES["autonomy"]),
        ))
    return rows


def public_link(url: str, env=os.environ, address: tuple[str, int] | None = None,
                lan_lookup=deployment.lan_address) -> str:
    """The link as students' phones must open it, from the link as the admin's browser sees it.

    `OTREE_PUBLIC_URL` wins (its scheme, host and path prefix replace the URL's). Else a
    link through a name or address others can reach is kept; a loopback one (the admin
    opened on the laptop as `localhost`) becomes the machine's network address with the
    server's port, unless the server listens only on this computer: then it stays
    loopback, and the pages showing it warn (`link_is_loopback`).

    Args:
        url: the join link built from the admin's request.
        env: the environment (`OTREE_PUBLIC_URL`).
        address: (host, port) the server listens on (default: from the command line).
        lan_lookup: returns this computer's network address or None.
    """
    parts = urlsplit(url)
    public = (env.get("OTREE_PUBLIC_URL") or "").strip().rstrip("/")
    if not public:
        if not deployment.is_loopback(parts.hostname):
            return url
        host, port = address or deployment.server_address() or ("0.0.0.0", parts.port or 80)
        public = deployment.reachable_base_url(host, port, env={}, lan_lookup=lan_lookup)
        if not public:
            return url
    base = urlsplit(public)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, parts.fragment))


def link_is_loopback(url: str) -> bool:
    """True when only this computer can open the link (phones cannot)."""
    return deployment.is_loopback(urlsplit(url).hostname)


def join_url(request, session) -> str:
    """The link students open: the room's, if the session is in a room (see `public_link`)."""
    room = session.get_room()
    if room is not None:
        # straight past the room's welcome page: one page less on a phone
        url = f"{room.get_room_wide_url(request)}?welcome_page_ok=1"
    else:
        url = str(request.url_for("SessionWideLink", anonymous_code=anonymous_code(session)))
    return public_link(url)


def link_may_be_loopback() -> bool:
    """Without a request (the Report tab is rendered without one): could the students'
    link be a loopback one? True when no `OTREE_PUBLIC_URL` is set and the server listens
    only on this computer or the computer has no network address. The Report tab then
    shows the warning until its first refresh, which asks the server with a request."""
    address = deployment.server_address()
    if address is None:
        return False
    return deployment.reachable_base_url(*address) is None


def qr_svg(url: str) -> str:
    """A QR code drawn on the server (no outside service), as inline SVG."""
    return segno.make(url, error="m").svg_inline(scale=10, dark="#000", light="#fff", border=2)


def dashboard_labels(left_after: int, language: str = texts.MASTER) -> dict[str, str]:
    """The dashboard's texts (the admin is in English): the class totals' names, the
    column headings that say what "answering now" and "stopped answering" mean, notes.

    Args:
        left_after: minutes without a page request after which a started student has left.
        language: the language of the texts.
    """
    t = texts.load(language)
    labels = {**t["projector"], **t["instructor"]}
    labels["in_progress_heading"] = labels["in_progress_heading"].format(minutes=left_after)
    labels["left_heading"] = labels["left_heading"].format(minutes=left_after)
    return labels


PROJECTOR_COUNTS = ("joined", "in_progress", "finished")  # large; the other totals in a line below


class Projector(AdminSessionPage):
    """Full screen for the lecture-hall projector: QR code, short link, live class totals."""

    def get(self, request, **kwargs):
        url = join_url(request, self.session)
        rows = participant_rows(self.session)
        counts = dashboard.summary(rows)["progress"]
        language = texts.normalise_language(self.session.config.get("language"))
        t = texts.load(language)["projector"]
        big = "\n".join(f'<div class="count"><b id="{k}">{counts[k]}</b><span>{html.escape(t[k])}</span></div>'
                        for k in PROJECTOR_COUNTS)
        small = " · ".join(f'<span>{html.escape(t[k])}: <b id="{k}">{counts[k]}</b></span>'
                           for k in dashboard.STATUSES if k not in PROJECTOR_COUNTS)
        warning = (f'<p class="warning" role="alert">{html.escape(t["loopback_warning"])}</p>'
                   if link_is_loopback(url) else "")
        results_t = texts.load(language)["class_results"]
        still = dashboard.still_answering(rows)
        body = PROJECTOR_HTML.format(
            lang=language,
            title=html.escape(t["title"]),
            qr=qr_svg(url),
            link=link_html(url),
            warning=warning, big=big, small=small,
            keys=", ".join(f'"{k}"' for k in ("joined", *dashboard.STATUSES)),
            counts_url=html.escape(str(request.url_for("ClassCounts", code=self.session.code))),
            fullscreen=html.escape(t["fullscreen"]),
            results_url=f"/ClassResults/{self.session.code}",
            results_label=html.escape(results_t["button"]),
            results_note=html.escape(results_t["in_progress_note"].format(n=still)) if still else "",
            results_note_hidden="" if still else " hidden",
            results_note_template=html.escape(json.dumps(results_t["in_progress_note"])),
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})


def link_html(url: str) -> str:
    """The link as the projector shows it: without scheme and query, escaped, with a line
    break allowed only after each "/" (never inside a word such as a room's name).

    Args:
        url: the students' link.
    """
    short = url.split("://", 1)[-1].split("?", 1)[0]
    return "/<wbr>".join(html.escape(part) for part in short.split("/"))


class ClassCounts(AdminSessionPage):
    """The live numbers as JSON, polled by the projector view and the dashboard.

    `still_answering` is the class results' count (`dashboard.still_answering`: opened
    the link, and neither finished, withdrew, declined nor reached the end page), as the
    Report tab and the results page say it."""

    def get(self, request, **kwargs):
        rows = participant_rows(self.session)
        data = dashboard.summary(rows)
        data["still_answering"] = dashboard.still_answering(rows)
        url = join_url(request, self.session)
        data["link"] = dict(url=url, loopback=link_is_loopback(url))
        return JSONResponse(data, headers={"Cache-Control": "no-store"})


def full_session_response():
    """Replaces oTree's bare 'Session is full.' with a friendly page in all three languages."""
    # oTree's bots and clients recognise a full session by its 404 status.
    return Response(multilingual_page("full"), status_code=404, media_type="text/html")


def bad_link_response():
    """A friendly 'this link does not work' page in all three languages (status 404), for a
    student's link that leads nowhere: a room that does not exist (a mistyped address), or
    a participant whose session was deleted (an old tab after the instructor started over)."""
    return Response(multilingual_page("bad_link"), status_code=404, media_type="text/html")


def room_config_problem(config_name: str, room_name: str | None) -> str | None:
    """Why a session of this configuration may not be created in this room, or None.

    The `demo` configuration has a fixed seed (its assignments are predictable) and is
    for trying the survey: it is refused in every room, where real classes run.

    Args:
        config_name: the session configuration's name.
        room_name: the room the session is for, or None (outside rooms: always allowed).
    """
    if room_name and config_name == "demo":
        return texts.load(texts.MASTER)["instructor"]["demo_in_room"]
    return None


# Registered by `otree_glue.install()` among oTree's admin views (admin login applies):
# the projector, its live counts, and the class's own results.
ADMIN_VIEWS = [Projector, ClassCounts, ClassResults]


PROJECTOR_HTML = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
html,body{{margin:0;height:100%;background:#fff;color:#111;font-family:system-ui,sans-serif}}
main{{display:flex;height:100%;align-items:center;justify-content:center;gap:4vw;padding:2vw;box-sizing:border-box}}
.qr svg{{width:min(42vw,80vh);height:auto;display:block}}
.side{{display:flex;flex-direction:column;gap:3vh}}
h1{{font-size:4vw;margin:0}}
.link{{font:700 3.2vw/1.2 ui-monospace,monospace;overflow-wrap:normal;word-break:normal;margin:0}}
.counts{{display:flex;gap:3vw}}
.count{{text-align:center}}
.count b{{display:block;font-size:7vw;line-height:1}}
.count span{{font-size:1.8vw;color:#333}}
.others{{font-size:1.6vw;color:#333;margin:0}}
.warning{{font-size:1.6vw;margin:0;padding:.6em .8em;background:#f8d7da;color:#58151c;border:3px solid #b02a37;border-radius:.3em}}
button{{font-size:1.4vw;padding:.5em 1em;align-self:flex-start}}
:fullscreen button{{display:none}}
.results{{font-size:1.4vw;color:#111;margin:0}}
.results span{{margin-left:.6em;color:#58151c}}
</style></head>
<body><main>
<div class="qr" aria-label="QR code">{qr}</div>
<div class="side">
<h1>{title}</h1>
<p class="link" id="link">{link}</p>
{warning}
<div class="counts" aria-live="polite">
{big}
</div>
<p class="others">{small}</p>
<button type="button" id="fullscreen">{fullscreen}</button>
<p class="results"><a id="class-results" href="{results_url}">{results_label}</a><span id="still-answering" data-template="{results_note_template}"{results_note_hidden}>{results_note}</span></p>
</div></main>
<script>
(function () {{
  var url = "{counts_url}";
  function refresh() {{
    fetch(url, {{credentials: "same-origin", cache: "no-store"}})
      .then(function (r) {{ return r.ok ? r.json() : null; }})
      .then(function (d) {{
        if (!d) return;
        [{keys}].forEach(function (k) {{
          document.getElementById(k).textContent = d.progress[k];
        }});
        var note = document.getElementById("still-answering");
        note.hidden = !d.still_answering;
        note.textContent = d.still_answering
          ? JSON.parse(note.getAttribute("data-template")).replace("{{n}}", d.still_answering) : "";
      }})
      .catch(function () {{}});
  }}
  setInterval(refresh, 3000);
  document.getElementById("fullscreen").addEventListener("click", function () {{
    if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen();
  }});
}})();
</script>
</body></html>
"""

PAGE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/survey/survey.css">
</head><body><main class="page">
{sections}
</main></body></html>
"""


def multilingual_page(section: str) -> str:
    """A page in every language at once, for moments when the student's language is not
    known (a full session, a server error): the instrument section's `title` and `body`
    in each language, each in its own `lang` section.

    Args:
        section: the instrument files' section holding `title` and `body`.
    """
    found = [(language, texts.load(language)[section]) for language in texts.LANGUAGES]
    titles = dict.fromkeys(t["title"] for _, t in found)  # unique, in order
    sections = "\n".join(f'<section lang="{language}"><h1>{html.escape(t["title"])}</h1>'
                         f'<p>{html.escape(t["body"])}</p></section>' for language, t in found)
    return PAGE_HTML.format(title=html.escape(" · ".join(titles)), sections=sections)


# oTree's error middleware fills its template with str.format, so braces are doubled.
ERROR_HTML = multilingual_page("server_error").replace("{", "{{").replace("}", "}}")
