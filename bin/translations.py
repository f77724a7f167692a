"""Keep the catalogues in step with the source.

    python bin/translations.py update   extract every msgid, merge into de and en (en gets msgstr = msgid)
    python bin/translations.py check    exit 1 and list what is missing, empty, fuzzy or inconsistent
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "crowdfund" / "translations"
LOCALES = ("de", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2)}
METHODS = [
    ("crowdfund/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
JINJA_OPTIONS = {"extensions": "jinja2.ext.do"}


def extract() -> Catalog:
    """Return a template catalogue with every msgid used in code and templates."""
    template = Catalog(project="crowdfund", charset="utf-8")
    options = {"templates/**.html": JINJA_OPTIONS, "templates/**.txt": JINJA_OPTIONS}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), METHODS, options_map=options, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(locale: str) -> Path:
    return CATALOGUES / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def update() -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        if locale == "en":
            for message in catalog:
                if message.id and not (all(message.string) if isinstance(message.string, tuple) else message.string):
                    message.string = message.id
        catalog.obsolete.clear()
        catalog.fuzzy = False  # a fuzzy header would make pybabel skip the whole catalogue
        po_path(locale).parent.mkdir(parents=True, exist_ok=True)
        with po_path(locale).open("wb") as fh:
            write_po(fh, catalog, omit_header=False, sort_output=True, include_lineno=False)


def problems(locale: str, template: Catalog) -> list[str]:
    """List what keeps the catalogue of `locale` from being complete and consistent."""
    catalog = load(locale)
    found = []
    for message in template:
        if not message.id:
            continue
        have = catalog.get(message.id, context=message.context)
        strings = have.string if have else None
        if have is None:
            found.append(f"{locale}: missing {message.id!r}")
        elif not strings or (isinstance(strings, tuple) and not all(strings)):
            found.append(f"{locale}: empty {message.id!r}")
        elif have.fuzzy:
            found.append(f"{locale}: fuzzy {message.id!r}")
    if catalog.fuzzy:
        found.append(f"{locale}: the catalogue header is marked fuzzy (it would not be compiled)")
    for message, errors in catalog.check():
        found += [f"{locale}: {message.id!r}: {error}" for error in errors]
    return found


def check() -> int:
    template = extract()
    found = [p for locale in LOCALES for p in problems(locale, template)]
    print("\n".join(found) or "catalogues complete")
    return 1 if found else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    sys.exit(check())
