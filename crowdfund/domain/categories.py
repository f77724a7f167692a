"""Project categories of the contest (stable keys; labels are translated in the web layer)."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "digital", "mobility", "environment", "neighbourhood", "culture", "education", "health",
)
