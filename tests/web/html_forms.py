"""Read the forms of an HTML page as a browser would submit them (fields, default values, chosen options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlForm:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # what a browser would send unchanged
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type, "textarea" or "select"
    options: dict[str, list[str]] = field(default_factory=dict)  # select/radio name -> values offered

    def data(self, **overrides: object) -> dict[str, object]:
        """The browser's submission with `overrides` (a value of None leaves the field out)."""
        sent: dict[str, object] = {k: v if len(v) != 1 else v[0] for k, v in self.fields.items()}
        for name, value in overrides.items():
            if value is None:
                sent.pop(name, None)
            else:
                sent[name] = value
        return sent


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._multiple = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = HtmlForm(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            form.kinds.setdefault(name, kind)
            if kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                form.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "textarea" and name:
            form.kinds[name] = "textarea"
            self._textarea = name
            form.fields.setdefault(name, []).append("")
        elif tag == "select" and name:
            form.kinds[name] = "select"
            self._select, self._select_first, self._select_chosen = name, None, False
            self._multiple = "multiple" in a
        elif tag == "option" and self._select:
            value = a.get("value", "")
            form.options.setdefault(self._select, []).append(value)
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                form.fields.setdefault(self._select, []).append(value)
                self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            values = self._form.fields[self._textarea]
            values[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._form is not None and self._textarea:
            value = self._form.fields[self._textarea][-1]
            self._form.fields[self._textarea][-1] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "select" and self._form is not None and self._select:
            if not self._select_chosen and self._select_first is not None and not self._multiple:
                self._form.fields.setdefault(self._select, []).append(self._select_first)
            self._select = None
        elif tag == "form":
            self._form = None


def forms_of(html: str) -> list[HtmlForm]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms


def form_for(html: str, action: str) -> HtmlForm:
    """The POST form that sends to `action` (a path; a query string in the form's action is ignored)."""
    found = [f for f in forms_of(html) if f.method == "post" and f.action.split("?")[0].split("#")[0] == action]
    assert found, f"no POST form to {action} on the page; forms: {[f.action for f in forms_of(html)]}"
    return found[0]
