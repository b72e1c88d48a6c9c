"""The instructor's screens: a projector view with a QR code, and live counts.

oTree has no public hook for extra admin pages: `ADMIN_VIEWS` declares this module's
views, and `otree_glue.install()` lists them among oTree's built-in admin views before
oTree builds its route table. They then get oTree's login rules unchanged: with
OTREE_AUTH_LEVEL=STUDY they ask for the admin login like every other admin page.

Everything shown is a count from `dashboard.py` (small ones masked); no page here shows
a participant code, a name or an answer.
"""

from __future__ import annotations

import html

import segno
from starlette.responses import HTMLResponse, JSONResponse, Response

from . import dashboard, texts
from .otree_glue import AdminSessionPage, anonymous_code
from .survey_page import read_var


def participant_rows(session) -> list[dict]:
    """One plain dict per participant of the session: flow flags and the fields counted."""
    from . import Player  # the app's model; imported late to avoid a cycle

    rows = []
    for player in Player.objects_filter(session=session):
        participant = player.participant
        rows.append(dict(
            joined=bool(participant.visited),
            consented=bool(read_var(participant, "consented")),
            finished=bool(player.field_maybe_none("completed")),
            programme=player.field_maybe_none("programme"),
            manager=player.field_maybe_none("manager"),
            partner=player.field_maybe_none("partner"),
            attention_pass=player.field_maybe_none("attention_pass"),
            mc_manager_correct=player.field_maybe_none("mc_manager_correct"),
            mc_partner_correct=player.field_maybe_none("mc_partner_correct"),
        ))
    return rows


def join_url(request, session) -> str:
    """The link students open: the room's, if the session is in a room."""
    room = session.get_room()
    if room is not None:
        # straight past the room's welcome page: one page less on a phone
        return f"{room.get_room_wide_url(request)}?welcome_page_ok=1"
    return str(request.url_for("JoinSessionAnonymously", anonymous_code=anonymous_code(session)))


def qr_svg(url: str) -> str:
    """A QR code drawn on the server (no outside service), as inline SVG."""
    return segno.make(url, error="m").svg_inline(scale=10, dark="#000", light="#fff", border=2)


class Projector(AdminSessionPage):
    """Full screen for the lecture-hall projector: QR code, short link, live counts."""

    def get(self, request, **kwargs):
        url = join_url(request, self.session)
        counts = dashboard.summary(participant_rows(self.session))["progress"]
        language = texts.normalise_language(self.session.config.get("language"))
        t = texts.load(language)["projector"]
        body = PROJECTOR_HTML.format(
            lang=language,
            title=html.escape(t["title"]),
            qr=qr_svg(url),
            link=html.escape(url.split("://", 1)[-1].split("?", 1)[0]),
            joined_label=html.escape(t["joined"]),
            consented_label=html.escape(t["consented"]),
            finished_label=html.escape(t["finished"]),
            joined=counts["joined"], consented=counts["consented"], finished=counts["finished"],
            counts_url=html.escape(str(request.url_for("ClassCounts", code=self.session.code))),
            fullscreen=html.escape(t["fullscreen"]),
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})


class ClassCounts(AdminSessionPage):
    """The live numbers as JSON, polled by the projector view and the dashboard."""

    def get(self, request, **kwargs):
        data = dashboard.summary(participant_rows(self.session))
        return JSONResponse(data, headers={"Cache-Control": "no-store"})


def full_session_response():
    """Replaces oTree's bare 'Session is full.' with a friendly page in all three languages."""
    parts = []
    for language in texts.LANGUAGES:
        full = texts.load(language)["full"]
        parts.append(f'<section lang="{language}"><h1>{html.escape(full["title"])}</h1>'
                     f'<p>{html.escape(full["body"])}</p></section>')
    page = FULL_HTML.format(sections="\n".join(parts))
    # oTree's bots and clients recognise a full session by its 404 status.
    return Response(page, status_code=404, media_type="text/html")


# Registered by `otree_glue.install()` among oTree's admin views (admin login applies).
ADMIN_VIEWS = [Projector, ClassCounts]


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
.link{{font:700 3.2vw/1.2 ui-monospace,monospace;word-break:break-all}}
.counts{{display:flex;gap:3vw}}
.count{{text-align:center}}
.count b{{display:block;font-size:7vw;line-height:1}}
.count span{{font-size:1.8vw;color:#333}}
button{{font-size:1.4vw;padding:.5em 1em;align-self:flex-start}}
:fullscreen button{{display:none}}
</style></head>
<body><main>
<div class="qr" aria-label="QR code">{qr}</div>
<div class="side">
<h1>{title}</h1>
<p class="link" id="link">{link}</p>
<div class="counts" aria-live="polite">
<div class="count"><b id="joined">{joined}</b><span>{joined_label}</span></div>
<div class="count"><b id="consented">{consented}</b><span>{consented_label}</span></div>
<div class="count"><b id="finished">{finished}</b><span>{finished_label}</span></div>
</div>
<button type="button" id="fullscreen">{fullscreen}</button>
</div></main>
<script>
(function () {{
  var url = "{counts_url}";
  function refresh() {{
    fetch(url, {{credentials: "same-origin", cache: "no-store"}})
      .then(function (r) {{ return r.ok ? r.json() : null; }})
      .then(function (d) {{
        if (!d) return;
        ["joined", "consented", "finished"].forEach(function (k) {{
          document.getElementById(k).textContent = d.progress[k];
        }});
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

ERROR_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Please try again · Prøv igjen · Prøv igen</title>
<link rel="stylesheet" href="/static/survey/survey.css">
</head><body><main class="page">
<section lang="nb"><h1>Noe gikk galt</h1><p>Svarene du allerede har sendt, er lagret. Vent litt og last inn siden på nytt.</p></section>
<section lang="da"><h1>Noget gik galt</h1><p>De svar, du allerede har sendt, er gemt. Vent lidt, og genindlæs siden.</p></section>
<section lang="en"><h1>Something went wrong</h1><p>The answers you already sent are saved. Wait a moment and reload the page.</p></section>
</main></body></html>
"""

FULL_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Full · Fullt · Fuld</title>
<link rel="stylesheet" href="/static/survey/survey.css">
</head><body><main class="page">
{sections}
</main></body></html>
"""
