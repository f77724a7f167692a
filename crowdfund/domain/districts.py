"""Kassel's 23 districts (Stadtteile), in the city's order."""

from __future__ import annotations

import re
import unicodedata

KASSEL_DISTRICTS: tuple[str, ...] = (
    "Mitte", "Südstadt", "Vorderer Westen", "Wehlheiden", "Bad Wilhelmshöhe", "Brasselsberg",
    "Süsterfeld-Helleböhn", "Harleshausen", "Kirchditmold", "Rothenditmold", "Nord-Holland",
    "Philippinenhof-Warteberg", "Fasanenhof", "Wesertor", "Wolfsanger-Hasenhecke", "Bettenhausen",
    "Forstfeld", "Waldau", "Niederzwehren", "Oberzwehren", "Nordshausen", "Jungfernkopf",
    "Unterneustadt",
)

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def slugify(text: str, max_length: int = 80) -> str:
    """Return a lower-case ASCII slug: German umlauts spelled out, other marks dropped."""
    text = unicodedata.normalize("NFKD", text.translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "x"
