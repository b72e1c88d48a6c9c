"""A simulated student over plain HTTP: own cookies, reads each page's radio groups, answers.

Used by the HTTP tests and the load benchmark; it knows the instrument only through
the page it is shown, like a person.
"""

from __future__ import annotations

import html.parser
import random
import re
import urllib.parse

import requests

INLINE_REQUEST_HEADER = "X-Survey-Inline"  # as collab_experiment/otree_glue.py
PAGE_URL_HEADER = "X-Survey-Page-Url"


class _Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.radios: dict[str, list[str]] = {}
        self.checkboxes: dict[str, str] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "radio":
            self.radios.setdefault(a["name"], []).append(a["value"])
        elif tag == "input" and a.get("type") == "checkbox":
            self.checkboxes[a["name"]] = a.get("value", "on")

    def handle_data(self, data):
        self.text.append(data)


def parse(page_html: str) -> _Form:
    form = _Form()
    form.feed(page_html)
    return form


def choose_answers(page_html: str, page: str, rng: random.Random, *, programme: str | None = None) -> dict:
    """What a student sends on this page: one of the shown values for every radio group
    (the planned programme where there is one), and yes to both boxes on the consent page."""
    if page == "Consent":
        return {"consented": "True", "age_confirmed": "True"}
    form = parse(page_html)
    return {name: programme if name == "programme" and programme else rng.choice(values)
            for name, values in form.radios.items()}


PAGE_RE = re.compile(r"/p/(?P<code>[^/]+)/(?P<app>[^/]+)/(?P<page>[^/]+)/(?P<index>\d+)")


def url_part(url: str, part: str) -> str:
    """The participant `code`, `app`, `page` or `index` in an oTree page URL ("" elsewhere)."""
    m = PAGE_RE.search(url)
    return m.group(part) if m else ""


class BrowserSession(requests.Session):
    """Cookies, and a browser's one retry when a kept-alive connection went stale.

    The server closes a connection that stayed idle for 5 s (a student reading). A
    browser that finds its kept-alive connection closed before any answer sends the
    request again on a new one; the server never saw the first attempt.
    """

    reconnects = 0

    def request(self, *args, **kwargs):
        try:
            return super().request(*args, **kwargs)
        except requests.ConnectionError as exc:
            if "Connection aborted" not in str(exc):
                raise
            self.reconnects += 1
            self.close()
            return super().request(*args, **kwargs)


class Student:
    def __init__(self, start_url: str, *, programme: str | None = None, language: str | None = None,
                 seed: int | None = None, timeout: float = 60, inline: bool = False):
        self.http = BrowserSession()
        if inline:  # as survey.js: the next page in the answer to the POST
            self.http.headers[INLINE_REQUEST_HEADER] = "1"
        self.start_url = start_url
        self.programme = programme
        self.language = language
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.response: requests.Response | None = None
        self.answers: dict[str, str] = {}

    # where the student is: the URL of an inline answer's page, or where the redirects led
    @property
    def url(self) -> str:
        page_url = self.response.headers.get(PAGE_URL_HEADER)
        return urllib.parse.urljoin(self.response.url, page_url) if page_url else self.response.url

    page = property(lambda self: url_part(self.url, "page"))
    code = property(lambda self: url_part(self.url, "code"))

    def open(self) -> "Student":
        self.response = self.http.get(self.start_url, timeout=self.timeout)
        self.response.raise_for_status()
        return self

    def post(self, data: dict) -> requests.Response:
        self.response = self.http.post(self.url, data=data, timeout=self.timeout)
        return self.response

    def switch_language(self, language: str) -> None:
        self.post({"switch_language": language})

    def answer_page(self, overrides: dict | None = None) -> dict:
        """Answer every radio group on the page (programme as planned), and submit."""
        data = choose_answers(self.response.text, self.page, self.rng, programme=self.programme)
        data.update(overrides or {})
        self.answers.update(data)
        self.post(data)
        return data

    def walk(self, until: str | None = None, max_pages: int = 30) -> None:
        """Answer page after page, until the named page is reached or the survey ends."""
        for _ in range(max_pages):
            if self.page == until or self.page in ("Finished", ""):
                return
            before = self.url
            self.answer_page()
            if self.response.status_code >= 500:
                raise AssertionError(f"server error on {before}: {self.response.status_code}")
            if self.url == before:
                raise AssertionError(f"page did not advance: {before}")
        raise AssertionError("too many pages")
