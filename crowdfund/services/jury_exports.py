"""Exports of the jury's work: raw scores as CSV lines (streamed), results as rows for CSV and JSON.

Numbers are written with a dot and fixed decimals (scores to 3, exact fractions rounded only here);
text cells that a spreadsheet would run as a formula get a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from crowdfund.domain import jury as rules
from crowdfund.models.contests import Contest
from crowdfund.models.jury import Scorecard
from crowdfund.models.projects import Project
from crowdfund.services.jury_results import ContestResults
from crowdfund.services.jury_scoring import SUBMITTED, card_scores
from crowdfund.services.jury_settings import criteria, domain_criteria

RESULT_FIELDS = ("position", "project", "title", "jury_position", "jury_score", "mean", "median", "spread",
                 "scorecards", "tie_break", "crowd_backers", "crowd_amount_cents", "crowd_percent", "final_score",
                 "prize_cents", "disagreement")


def number(value: Fraction | float | None, places: int = 3) -> float | None:
    """Round an exact score for display and export."""
    return None if value is None else round(float(value), places)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_line(values: Iterable[object]) -> str:
    """Return one CSV line (RFC 4180 quoting, CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_cell(v) for v in values])
    return buffer.getvalue()


def raw_score_lines(session: Session, contest: Contest) -> Iterator[str]:
    """Yield the raw scores as CSV lines: one per scorecard (drafts included, marked), header first."""
    rows = criteria(session, contest)
    crit = domain_criteria(rows)
    yield csv_line(["project", "title", "juror", "status", "submitted_at", *[r.name for r in rows], "total",
                    "comment"])
    stmt = (select(Scorecard, Project).join(Project, Project.id == Scorecard.project_id)
            .options(joinedload(Scorecard.juror)).where(Scorecard.contest_id == contest.id)
            .order_by(Project.title, Project.id, Scorecard.juror_id))
    for card, project in session.execute(stmt):
        scores = card_scores(card)
        total = rules.weighted_total(crit, scores) if card.status == SUBMITTED and crit else None
        yield csv_line([project.slug, project.title, card.juror.name, card.status,
                        card.submitted_at.isoformat() if card.submitted_at else "",
                        *[scores.get(r.id, "") for r in rows], number(total), card.comment])


def result_rows(results: ContestResults) -> list[dict[str, Any]]:
    """Return the results as flat rows, ranked first, in RESULT_FIELDS order."""
    out = []
    for row in results.rows:
        stats = row.stats
        out.append({
            "position": row.position, "project": row.project.slug, "title": row.project.title,
            "jury_position": row.jury_position, "jury_score": number(row.jury_score),
            "mean": number(stats.mean if stats else None), "median": number(stats.median if stats else None),
            "spread": number(stats.spread if stats else None), "scorecards": stats.count if stats else 0,
            "tie_break": row.decided_by, "crowd_backers": row.crowd.backers,
            "crowd_amount_cents": row.crowd.amount_cents, "crowd_percent": row.crowd.percent,
            "final_score": number(row.final.final if row.final else None, 4), "prize_cents": row.prize_cents,
            "disagreement": row.disagreement,
        })
    return out


def results_csv(results: ContestResults) -> str:
    """Return the results as CSV text with a header line."""
    lines = [csv_line(RESULT_FIELDS)]
    lines += [csv_line(row[f] for f in RESULT_FIELDS) for row in result_rows(results)]
    return "".join(lines)


def results_document(results: ContestResults) -> dict[str, Any]:
    """Return the results with the contest, rule and method, for JSON."""
    config = results.config
    return {
        "contest": results.contest.slug, "phase": config.phase, "method": results.method,
        "ranking_rule": config.ranking_rule, "jury_weight": config.jury_weight,
        "crowd_frozen": results.crowd_frozen, "decided": results.decided,
        "prize_pot_cents": config.prize_pot_cents, "undistributed_cents": results.undistributed_cents,
        "entries": result_rows(results),
    }
