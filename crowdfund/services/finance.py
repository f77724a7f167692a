"""The finance dashboard: money by contest, project and period, as SQL aggregates over the ledger and pledges.

Figures (integer cents, positive): pledged (pledges with a saved payment method, whatever became of them),
charged, failed (pledges given up after the fix window), refunded, matched (realised pot top-ups), fees,
paid out; outstanding = charged + matched - refunded - fees - paid out, the money the platform still holds.
Days are calendar days in the platform's time zone; the database groups by UTC hour (the same on SQLite and
PostgreSQL) and the hours are placed on local days here, which is exact because Berlin's offsets are whole hours."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from crowdfund.models.contests import Contest
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.services.ledger import NEGATIVE_KINDS

LEDGER_FIGURES = {"charge": "charged", "refund": "refunded", "match": "matched", "fee": "fees", "payout": "paid_out"}
PLEDGED_STATUSES = ("active", "charging", "processing", "action_required", "paid", "partially_refunded", "refunded",
                    "failed", "released")


@dataclass(frozen=True)
class Period:
    """Calendar days from `start` to `end`, both included (None: open), on the platform's wall clock."""

    start: date | None = None
    end: date | None = None
    timezone: str = "Europe/Berlin"

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return the UTC moments [from, until) that the days cover."""
        zone = ZoneInfo(self.timezone)
        low = datetime.combine(self.start, time(), zone).astimezone(UTC) if self.start else None
        high = datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC) if self.end else None
        return low, high

    def clause(self, column: Any) -> list[ColumnElement[bool]]:
        low, high = self.bounds()
        return [c for c in ((column >= low) if low else None, (column < high) if high else None) if c is not None]


@dataclass(frozen=True)
class FinanceFilter:
    period: Period = Period()
    project_id: int | None = None
    state: str | None = None  # the project's state (live, funded, ...)


@dataclass
class Figures:
    pledged: int = 0
    charged: int = 0
    failed: int = 0
    refunded: int = 0
    matched: int = 0
    fees: int = 0
    paid_out: int = 0

    @property
    def outstanding(self) -> int:
        return self.charged + self.matched - self.refunded - self.fees - self.paid_out

    def add(self, other: Figures) -> None:
        for name in ("pledged", "charged", "failed", "refunded", "matched", "fees", "paid_out"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Dashboard:
    total: Figures
    by_contest: list[tuple[str, Figures]]
    by_project: list[tuple[Project, Figures]]
    by_month: list[tuple[str, Figures]]
    days: list[tuple[date, Figures]] = field(default_factory=list)


def _ledger_sums() -> list[Any]:
    # Refunds, fees and payouts are negative lines; the dashboard shows them as positive amounts. Match lines
    # keep their sign: a negative one is a match booked back to its pot after a refund.
    return [func.coalesce(func.sum(case((LedgerEntry.kind == kind, _shown(kind)), else_=0)), 0)
            .label(name) for kind, name in LEDGER_FIGURES.items()]


def _shown(kind: str) -> Any:
    return -LedgerEntry.amount_cents if kind in NEGATIVE_KINDS else LedgerEntry.amount_cents


def _pledge_sums() -> list[Any]:
    return [func.coalesce(func.sum(case((Pledge.status.in_(PLEDGED_STATUSES), Pledge.amount_cents), else_=0)), 0)
            .label("pledged"),
            func.coalesce(func.sum(case((Pledge.status == "failed", Pledge.amount_cents), else_=0)), 0).label("failed")]


def _narrow(stmt: Select[Any], project_column: Any, flt: FinanceFilter) -> Select[Any]:
    stmt = stmt.join(Project, Project.id == project_column)
    if flt.project_id is not None:
        stmt = stmt.where(Project.id == flt.project_id)
    if flt.state:
        stmt = stmt.where(Project.state == flt.state)
    return stmt


def figures_by_project(session: Session, flt: FinanceFilter) -> dict[int, Figures]:
    """Return each project's figures for the filter (projects without movement are left out)."""
    result: dict[int, Figures] = defaultdict(Figures)
    ledger = _narrow(select(LedgerEntry.project_id, *_ledger_sums()), LedgerEntry.project_id, flt)
    for row in session.execute(ledger.where(*flt.period.clause(LedgerEntry.created_at))
                               .group_by(LedgerEntry.project_id)):
        figures = result[row.project_id]
        for name in LEDGER_FIGURES.values():
            setattr(figures, name, int(getattr(row, name)))
    pledges = _narrow(select(Pledge.project_id, *_pledge_sums()), Pledge.project_id, flt)
    for row in session.execute(pledges.where(*flt.period.clause(Pledge.created_at)).group_by(Pledge.project_id)):
        result[row.project_id].pledged, result[row.project_id].failed = int(row.pledged), int(row.failed)
    return dict(result)


def _hour(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _local_day(bucket: datetime | str, zone: ZoneInfo) -> date:
    moment = datetime.fromisoformat(bucket) if isinstance(bucket, str) else bucket
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def figures_by_day(session: Session, flt: FinanceFilter) -> list[tuple[date, Figures]]:
    """Return the figures of each local day with any movement, oldest first."""
    dialect = session.get_bind().dialect.name
    zone = ZoneInfo(flt.period.timezone)
    days: dict[date, Figures] = defaultdict(Figures)
    hour = _hour(LedgerEntry.created_at, dialect).label("hour")
    ledger = _narrow(select(hour, *_ledger_sums()), LedgerEntry.project_id, flt)
    for row in session.execute(ledger.where(*flt.period.clause(LedgerEntry.created_at)).group_by(hour)):
        figures = days[_local_day(row.hour, zone)]
        for name in LEDGER_FIGURES.values():
            setattr(figures, name, getattr(figures, name) + int(getattr(row, name)))
    hour = _hour(Pledge.created_at, dialect).label("hour")
    pledges = _narrow(select(hour, *_pledge_sums()), Pledge.project_id, flt)
    for row in session.execute(pledges.where(*flt.period.clause(Pledge.created_at)).group_by(hour)):
        figures = days[_local_day(row.hour, zone)]
        figures.pledged += int(row.pledged)
        figures.failed += int(row.failed)
    return sorted(days.items())


def dashboard(session: Session, flt: FinanceFilter) -> Dashboard:
    """Gather the totals, the groupings by contest, project and month, and the days for the chart."""
    per_project = figures_by_project(session, flt)
    projects = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(per_project)))}
    contests = {c.id: c.name for c in session.scalars(select(Contest))}
    total, by_contest = Figures(), defaultdict(Figures)
    for project_id, figures in per_project.items():
        total.add(figures)
        by_contest[contests.get(projects[project_id].contest_id, "")].add(figures)
    days = figures_by_day(session, flt)
    by_month: dict[str, Figures] = defaultdict(Figures)
    for day, figures in days:
        by_month[f"{day.year:04d}-{day.month:02d}"].add(figures)
    ordered = sorted(per_project.items(), key=lambda item: projects[item[0]].title.lower())
    return Dashboard(total, sorted(by_contest.items()), [(projects[pid], f) for pid, f in ordered],
                     sorted(by_month.items()), days)
