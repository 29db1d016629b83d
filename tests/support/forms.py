"""What a browser would post for a page's form: every input's current value, read from the HTML."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_class: str):
        super().__init__(convert_charrefs=True)
        self.form_class, self.inside = form_class, False
        self.values: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = self.form_class in (a.get("class") or "").split()
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "file"):
                self.values.append((name, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            # the HTML parser drops one newline right after <textarea>; WTForms writes "\r\n" there
            self.values.append((self._textarea, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_values(html: str, form_class: str) -> list[tuple[str, str]]:
    """(name, value) pairs of the page's form with class ``form_class``, as the browser would send them unchanged."""
    reader = _FormReader(form_class)
    reader.feed(html)
    return reader.values
