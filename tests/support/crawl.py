"""A crawler that follows, as one signed-in user, every same-origin link and document the pages lead to.

It reads the links of every HTML page it gets (``href`` and ``src``, and the action of every GET form without its
fields), fetches each address once with the Flask test client (no browser: a crawl of the demo is a few thousand
requests), and records as a failure every answer of 500 or more, every exception, every log record of level ERROR
or carrying a traceback, and every link that answers 4xx: a page must not show a link its viewer may not follow.
Logging out and anything sent by POST are never followed, so the crawl changes nothing but what a GET may do (a
ZIP's build starts on its first download). A page that waits for a build (``data-status-url``, polled by the page's
script) is waited for the same way, and the download it leads to is fetched once the build is done.

Every page, CSV and ZIP is fetched. Every document (PDF, Excel, Word) is fetched too unless the caller bounds the
documents per address pattern (``documents_per_pattern``: the kind, plan and format, the key left out, e.g.
/plans/1/reports/member/#.pdf); the links left out are counted in ``Crawl.documents_left`` and each of their
patterns was fetched at least once. The figures and why the planners' crawls bound them are in the crawl tests'
docstrings (tests/web/test_demo_crawl.py).
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

# Never followed: leaving (POST in this application, but a link to it would end the crawl's session) and the
# application's static files (not pages: the test client serves them from disk, nothing of ours runs).
SKIPPED_PREFIXES = ("/logout", "/static/")
HTML = "text/html"
DOCUMENT = re.compile(r"^(/plans/\d+/reports/[^/?]+/)[^/?]+(\.(?:pdf|xlsx|docx))$")
BUILD_WAIT_SECONDS = 600


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

        self.status_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("data-status-url"):
            self.status_urls.append(values["data-status-url"] or "")
        for name in ("href", "src"):
            if values.get(name):
                self.found.append(values[name] or "")
        if tag == "form" and (values.get("method") or "get").lower() == "get":
            self.found.append(values.get("action") or "")


def _local(raw: str, base: str) -> str | None:
    if raw.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    parts = urlsplit(urldefrag(urljoin(base, raw)).url)
    if parts.netloc not in ("", "localhost") or parts.scheme not in ("", "http"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def links_of(html: str, base: str) -> tuple[list[str], list[str]]:
    """The same-origin addresses a page leads to (absolute paths with their query, without fragments), and the
    status addresses its scripts poll."""
    parser = _Links()
    parser.feed(html)
    links = [url for url in (_local(raw, base) for raw in parser.found) if url is not None]
    polled = [url for url in (_local(raw, base) for raw in parser.status_urls) if url is not None]
    return links, polled


@dataclass
class Crawl:
    """What one user's crawl found: every address fetched with its status and type, and the failures."""

    user: str
    fetched: dict[str, tuple[int, str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    referrer: dict[str, str] = field(default_factory=dict)
    downloads: dict[str, tuple[int, str]] = field(default_factory=dict)  # fetched again once their build was done
    built: set[str] = field(default_factory=set)
    documents_left: dict[str, int] = field(default_factory=dict)  # links not fetched, by their fetched pattern

    def of_type(self, mimetype: str) -> list[str]:
        return [url for url, (status, kind) in self.fetched.items() if kind == mimetype and status == 200]


class _Tracebacks(logging.Handler):
    """Every log record of level ERROR or above or that carries an exception, as text (the traceback a 500 writes
    to the log, and what the application logs as an error without raising)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if (
            record.levelno >= logging.ERROR
            or record.exc_info
            or "Traceback (most recent call last)" in record.getMessage()
        ):
            self.records.append(self.format(record))


def document_pattern(url: str) -> str | None:
    """A document link's pattern, its key left out (/plans/1/reports/member/#.pdf); None for other addresses."""
    m = DOCUMENT.match(url)
    return f"{m.group(1)}#{m.group(2)}" if m else None


def crawl(
    client, user: str, start: tuple[str, ...] = ("/",), limit: int = 20_000, documents_per_pattern: int | None = None
) -> Crawl:
    """Fetch everything reachable from ``start`` with ``client`` (already signed in as ``user``): every document
    too, or ``documents_per_pattern`` of each pattern."""
    result = Crawl(user)
    queue: deque[str] = deque(start)
    seen = set(start)
    documents: dict[str, int] = {}
    handler = _Tracebacks()
    root = logging.getLogger()
    root.addHandler(handler)

    def fetch(url: str):
        before = len(handler.records)
        try:
            response = client.get(url)
        except Exception:
            result.failures.append(
                f"{user} GET {url} (linked from {result.referrer.get(url, '-')})\n{traceback.format_exc()}"
            )
            return None
        result.fetched[url] = (response.status_code, response.mimetype or "")
        if response.status_code >= 400 or len(handler.records) > before:
            logged = "\n".join(handler.records[before:])
            result.failures.append(
                f"{user} GET {url} → {response.status_code} (linked from {result.referrer.get(url, '-')})\n{logged}"
            )
        return response

    def wait_for(status_url: str, page: str) -> None:
        """Poll a build's state as the page's script does; fetch its download once it is done."""
        deadline = time.monotonic() + BUILD_WAIT_SECONDS
        while True:
            response = fetch(status_url)
            if response is None or response.status_code != 200:
                return
            state = response.get_json()
            if state.get("status") not in ("queued", "running"):
                break
            if time.monotonic() > deadline:
                result.failures.append(f"{user} {page}: the build did not finish in {BUILD_WAIT_SECONDS} s: {state}")
                return
            time.sleep(0.2)
        if state.get("status") != "done":
            result.failures.append(f"{user} {page}: the build ended {state.get('status')}: {state.get('error')}")
            return
        download = _local(state["download"], page) if state.get("download") else None
        if download and download not in result.built:
            result.built.add(download)
            response = fetch(download)
            if response is not None:
                result.downloads[download] = (response.status_code, response.mimetype or "")
                response.close()

    try:
        while queue:
            url = queue.popleft()
            assert len(result.fetched) < limit, f"{user}: more than {limit} addresses: the crawl does not end"
            response = fetch(url)
            if response is None:
                continue
            found: list[str] = []
            polled: list[str] = []
            if 300 <= response.status_code < 400 and response.location:
                found = [_local(response.location, url) or ""]
            elif response.mimetype == HTML and response.status_code == 200:
                found, polled = links_of(response.get_data(as_text=True), url)
            response.close()
            for status_url in polled:
                wait_for(status_url, url)
            for link in found:
                if not link or link in seen or link.startswith(SKIPPED_PREFIXES):
                    continue
                seen.add(link)
                pattern = document_pattern(link)
                if pattern is not None and documents_per_pattern is not None:
                    documents[pattern] = documents.get(pattern, 0) + 1
                    if documents[pattern] > documents_per_pattern:
                        result.documents_left[pattern] = result.documents_left.get(pattern, 0) + 1
                        continue
                result.referrer[link] = url
                queue.append(link)
    finally:
        root.removeHandler(handler)
    return result
