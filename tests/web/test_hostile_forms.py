"""Hostile input on every form: overlong strings, HTML/script, unicode edge cases (NUL, RTL override, combining
marks, emoji, zero-width, bytes that are not UTF-8), bad amounts, numbers and dates, double submits.

Each form is read from its page as a browser would send it (tests/web/html_forms.py); one field at a time gets
a hostile value. The answer is never a server error. A refusal (4xx) shows the field's own error and leaves every
table as it was; a success stores the value as typed and pages show it escaped. A NUL character (which nobody
types and PostgreSQL cannot store) is refused for the whole request with 400 (crowdfund/security.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
import werkzeug.urls  # noqa: F401 (registers the werkzeug.url_quote codec error handler)
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crowdfund.db import utcnow
from crowdfund.domain.jury import Phase, PhaseAction
from crowdfund.models.audit import AuditEntry
from crowdfund.models.jury import JuryAssignment, JuryConflict, Scorecard
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.receipts import Payout
from crowdfund.services import jury, payouts
from tests.web.adversarial_world import World, build_world, changed_tables, log_in, snapshot
from tests.web.html_forms import HtmlForm, form_for

# --- what is sent ------------------------------------------------------------------------------------------
SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
TEXTS: dict[str, str | bytes] = {
    "10k": "x" * 10_000,
    "1M": "y" * 1_000_000,
    "html": SCRIPT,
    "nul": "before\x00after",
    "rtl": "Kassel \u202eannessaK",
    "combining": "Z\u0351\u0334a\u0300\u0301l\u0302g\u0303o",
    "emoji": "Kassel \U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f389",
    "zero_width": "\u200b\u200c\u200d\ufeff",
    "not_utf8": b"caf\xe9 \xed\xa0\x80",  # Latin-1 and an encoded lone surrogate: not UTF-8
}
SECOND_FIELDS = ("10k", "html", "nul", "emoji")  # the first text field of a form gets every value, others these
CHOICES = ["99999999999999999999", "-1", "abc", SCRIPT, "{other_reward}"]  # a reward of another project, too
AMOUNTS = ["1e309", "NaN", "Infinity", "-0,01", "-5", "2.500", "9999999999999", "1,2,3", "0x10", "5 €uro"]
INTEGERS = ["1e309", "NaN", "-1", "99999999999999999999", "3.5", "0x10", "7 Stück"]
DATES = ["2026-02-30", "99999-01-01", "1e9", "0000-00-00", "tomorrow"]
EXTREME_DATES = ["0001-01-01", "9999-12-31"]  # real dates: refused with a message or accepted, never a 500
DATETIMES = ["2026-02-30T10:00", "2026-13-01T10:00", "1e9", "2026-03-01T25:61"]
EXTREME_DATETIMES = ["0001-01-01T00:00", "9999-12-31T23:59"]  # local time in Kassel: refused or kept, no 500


def sent_text(value: str | bytes) -> str:
    """What the server reads: Werkzeug keeps bytes that are not UTF-8 as their %XX escapes."""
    return value.decode("utf-8", "werkzeug.url_quote") if isinstance(value, bytes) else value


# --- the forms -------------------------------------------------------------------------------------------------
Url = Callable[[World], str]


class Target(NamedTuple):
    name: str
    role: str | None  # who fills it in (None: a visitor)
    page: Url  # where the form is
    action: Url  # where it is sent
    texts: tuple[str, ...] = ()  # free-text fields
    amounts: tuple[str, ...] = ()  # euro amounts: every hostile amount is refused
    integers: tuple[str, ...] = ()  # whole numbers: every hostile number is refused
    dates: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # radio buttons and selects: a value not offered is refused
    datetimes: tuple[str, ...] = ()
    fill: Callable[[World, int], dict[str, object]] = lambda w, i: {}
    shown: Url | None = None  # a page that shows what was saved (escaped)
    secret: tuple[str, ...] = ()  # stored transformed (passwords): not looked for in the database
    refuse_all: bool = False  # every attempt must be refused (e.g. a wrong password); texts only where noted
    prepare: Callable[[Session, World], None] | None = None  # run before every attempt
    fresh_client: bool = False  # a new visitor (and address) per attempt: forms that log in or are rate-limited


def _no_open_payout(session: Session, world: World) -> None:
    for payout in session.scalars(select(Payout).where(Payout.status == "requested")):
        session.delete(payout)
    session.commit()


def _no_conflict_on_entry(session: Session, world: World) -> None:
    for conflict in session.scalars(select(JuryConflict).where(JuryConflict.project_id == world.entry.id)):
        session.delete(conflict)
    session.commit()


def _submitted(session: Session, world: World) -> None:
    world.other_draft.state = "submitted"
    session.merge(world.other_draft)
    session.commit()


def _jury_at(phase: Phase) -> Callable[[Session, World], None]:
    """Move the jury contest (crowdfunding long over: the crowd index is frozen) on to `phase`, once, after the
    juror has given both entries the same submitted score: they are ranked, and tied."""

    def prepare(session: Session, world: World) -> None:
        contest = world.jury_contest
        if jury.get_config(session, contest).phase == phase.value:
            return
        session.execute(delete(JuryConflict).where(JuryConflict.contest_id == contest.id))
        juror = world.people["juror"].id
        assigned = set(session.scalars(select(JuryAssignment.project_id).where(JuryAssignment.juror_id == juror)))
        for entry_id in session.scalars(select(Project.id).where(Project.contest_id == contest.id)).all():
            if entry_id not in assigned:
                session.add(JuryAssignment(contest_id=contest.id, juror_id=juror, project_id=entry_id))
            session.add(Scorecard(contest_id=contest.id, juror_id=juror, project_id=entry_id,
                                  scores={str(world.criterion_id): 5}, status="submitted", submitted_at=utcnow()))
        for action in (PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)[:2 if phase == Phase.DECISION else 1]:
            jury.change_phase(session, contest, action, actor=world.people["admin"], now=utcnow())
        session.commit()

    return prepare


PASSWORD = "a fine long password 42"
TARGETS = [
    Target("register", None, lambda w: "/auth/register", lambda w: "/auth/register", texts=("name", "email"),
           fill=lambda w, i: {"name": "Neu", "email": f"new{i}@example.org", "password": PASSWORD,
                              "confirm": PASSWORD}, fresh_client=True),
    Target("login", None, lambda w: "/auth/login", lambda w: "/auth/login", texts=("email", "password"),
           fill=lambda w, i: {"email": w.people["backer"].email, "password": "wrong password"}, refuse_all=True,
           fresh_client=True),
    Target("reset request", None, lambda w: "/auth/reset", lambda w: "/auth/reset", texts=("email",),
           fill=lambda w, i: {"email": "nobody@example.org"}, fresh_client=True, secret=("email",)),
    Target("reset password", None, lambda w: f"/auth/reset/{w.reset_token}",
           lambda w: f"/auth/reset/{w.reset_token}", texts=("password", "confirm"), refuse_all=True,
           fill=lambda w, i: {"password": "short", "confirm": "different"}),
    Target("profile", "backer", lambda w: "/account/", lambda w: "/account/", texts=("name",),
           shown=lambda w: "/account/"),
    Target("password change", "backer", lambda w: "/account/", lambda w: "/account/password",
           texts=("current", "password", "confirm"), refuse_all=True,
           fill=lambda w, i: {"current": "wrong password", "password": PASSWORD, "confirm": PASSWORD}),
    Target("API token", "backer", lambda w: "/account/", lambda w: "/account/tokens", texts=("name",),
           fill=lambda w, i: {"name": "laptop"}, shown=lambda w: "/account/"),
    Target("receipt address", "backer", lambda w: "/account/receipts", lambda w: "/account/receipts/address",
           texts=("name", "address"), fill=lambda w, i: {"name": "Bea", "address": "Königsplatz 1\n34117 Kassel"},
           shown=lambda w: "/account/receipts"),
    Target("delete account", "backer", lambda w: "/account/delete", lambda w: "/account/delete",
           texts=("password",), refuse_all=True, fill=lambda w, i: {"password": "wrong password"}),
    Target("project draft", "owner", lambda w: f"/my/projects/{w.draft.id}/edit",
           lambda w: f"/my/projects/{w.draft.id}/edit",
           texts=("title", "pitch", "description", "recipient_name", "recipient_address", "team-0-name"),
           amounts=("threshold_eur",), dates=("deadline",), fill=lambda w, i: {"team-0-name": "Lea"},
           shown=lambda w: f"/my/projects/{w.draft.id}/preview"),
    Target("reward", "owner", lambda w: f"/my/projects/{w.draft.id}/rewards/new",
           lambda w: f"/my/projects/{w.draft.id}/rewards/new", texts=("title", "description"),
           amounts=("min_amount_eur",), integers=("quantity_total",), dates=("delivery_estimate",),
           fill=lambda w, i: {"title": "Mug", "min_amount_eur": "15"},
           shown=lambda w: f"/my/projects/{w.draft.id}"),
    Target("reward stock", "owner", lambda w: f"/my/projects/{w.campaign.id}",
           lambda w: f"/my/projects/{w.campaign.id}/rewards/{w.reward.id}/stock",
           integers=("r{reward}-quantity_total",)),
    Target("campaign update", "owner", lambda w: f"/my/projects/{w.campaign.id}",
           lambda w: f"/my/projects/{w.campaign.id}/updates", texts=("title", "body"),
           fill=lambda w, i: {"title": "News", "body": "It works."}, shown=lambda w: f"/projects/{w.campaign.slug}"),
    Target("pledge change", "backer", lambda w: f"/pledges/{w.pledge.id}/edit",
           lambda w: f"/pledges/{w.pledge.id}/edit",
           texts=("message",), amounts=("amount_eur",), choices=("reward",),
           shown=lambda w: f"/pledges/{w.pledge.id}/edit"),
    Target("pledge", "juror", lambda w: f"/projects/{w.campaign.slug}/pledge",
           lambda w: f"/projects/{w.campaign.slug}/pledge", amounts=("amount_eur",), choices=("reward",
                                                                                                "payment_method"),
           fill=lambda w, i: {"amount_eur": "25"}),
    Target("refund", "finance", lambda w: f"/finance/pledges/{w.paid_pledge.id}/refund",
           lambda w: f"/finance/pledges/{w.paid_pledge.id}/refund", texts=("note",), amounts=("amount",),
           fill=lambda w, i: {"amount": "0,01"}, shown=lambda w: f"/finance/projects/{w.funded.id}/payments"),
    Target("payout request", "finance", lambda w: f"/finance/projects/{w.funded.id}/payout",
           lambda w: f"/finance/projects/{w.funded.id}/payout", texts=("recipient_name", "iban", "bic"),
           fill=lambda w, i: {"recipient_name": "Verein", "iban": "DE02 1203 0000 0000 2020 51"},
           prepare=_no_open_payout, shown=lambda w: "/finance/payouts"),
    Target("donation profile", "finance", lambda w: f"/finance/projects/{w.funded.id}/donation-profile",
           lambda w: f"/finance/projects/{w.funded.id}/donation-profile",
           texts=("purpose", "tax_office", "tax_number", "place", "signatory"), dates=("notice_date",),
           fill=lambda w, i: {"purpose": "des Umweltschutzes", "tax_office": "Kassel", "tax_number": "026 250 1",
                              "notice_date": "2025-02-14"},
           shown=lambda w: f"/finance/projects/{w.funded.id}/donation-profile"),
    Target("contest", "admin", lambda w: "/admin/contests/new", lambda w: "/admin/contests/new",
           texts=("name", "description"), datetimes=("submission_start", "results_at"),
           fill=lambda w, i: _contest_data(i), shown=lambda w: "/admin/contests"),
    Target("matching pot", "admin", lambda w: "/admin/pots/new", lambda w: "/admin/pots/new",
           texts=("sponsor_name",), amounts=("budget_eur", "cap_per_pledge_eur"), integers=("ratio_percent",),
           fill=lambda w, i: {"sponsor_name": "Stadtwerke", "budget_eur": "1000"}, shown=lambda w: "/admin/pots"),
    Target("review", "admin", lambda w: f"/admin/projects/{w.other_draft.id}",
           lambda w: f"/admin/projects/{w.other_draft.id}/review", texts=("message",), prepare=_submitted,
           fill=lambda w, i: {"action": "request_changes"}, shown=lambda w: f"/admin/projects/{w.other_draft.id}"),
    Target("conflict", "juror", lambda w: f"/jury/{w.jury_contest.slug}/conflicts",
           lambda w: f"/jury/{w.jury_contest.slug}/conflicts", texts=("note",), choices=("project", "kind"),
           fill=lambda w, i: {"project": str(w.entry.id)}, prepare=_no_conflict_on_entry,
           shown=lambda w: f"/jury/{w.jury_contest.slug}/conflicts"),
    Target("jury settings", "admin", lambda w: f"/admin/jury/{w.live_contest.slug}",
           lambda w: f"/admin/jury/{w.live_contest.slug}/settings", texts=("jury_weight", "prize_fixed"),
           amounts=("prize_pot",), integers=("prize_places", "jurors_per_entry"),
           fill=lambda w, i: {"jury_weight": "0.5", "prize_pot": "1000", "prize_places": "3", "preselect_top_n": "5"}),
    Target("jury criterion", "admin", lambda w: f"/admin/jury/{w.live_contest.slug}",
           lambda w: f"/admin/jury/{w.live_contest.slug}/criteria", texts=("name", "description", "anchors"),
           integers=("scale_max",), fill=lambda w, i: {"name": "Impact", "weight": "1"},  # scale_min may be < 0
           shown=lambda w: f"/admin/jury/{w.live_contest.slug}"),
    Target("scorecard", "juror", lambda w: f"/jury/{w.jury_contest.slug}/entries/{w.entry.id}",
           lambda w: f"/jury/{w.jury_contest.slug}/entries/{w.entry.id}", texts=("comment",),
           integers=("score_{criterion}",), fill=lambda w, i: {"score_{criterion}": "5", "action": "save"},
           shown=lambda w: f"/jury/{w.jury_contest.slug}/entries/{w.entry.id}"),
    Target("jury panel", "admin", lambda w: f"/admin/jury/{w.live_contest.slug}",
           lambda w: f"/admin/jury/{w.live_contest.slug}/panel", choices=("user",)),
    Target("admin conflict", "admin", lambda w: f"/admin/jury/{w.jury_contest.slug}",
           lambda w: f"/admin/jury/{w.jury_contest.slug}/conflicts", texts=("note",),
           choices=("juror", "project", "kind"),
           fill=lambda w, i: {"juror": str(w.people["juror"].id), "project": str(w.entry.id)},
           prepare=_no_conflict_on_entry, shown=lambda w: f"/admin/jury/{w.jury_contest.slug}"),
    Target("jury decision", "admin", lambda w: f"/admin/jury/{w.jury_contest.slug}/results",
           lambda w: f"/admin/jury/{w.jury_contest.slug}/decision", texts=("reason",),
           integers=("place_{entry}", "place_{other_entry}"), prepare=_jury_at(Phase.DECISION),
           shown=lambda w: f"/admin/jury/{w.jury_contest.slug}/results"),
    Target("tie vote", "admin", lambda w: f"/admin/jury/{w.jury_contest.slug}/results",
           lambda w: f"/admin/jury/{w.jury_contest.slug}/tie-vote", integers=("place_{entry}", "place_{other_entry}"),
           prepare=_jury_at(Phase.DISCUSSION)),
    Target("payout export", "finance", lambda w: "/finance/payouts", lambda w: "/finance/payouts/export",
           dates=("execution_date",)),
]


def _contest_data(i: int) -> dict[str, object]:
    year = 2031 + i  # a new slug and window each time
    dates = ("submission_start", "submission_end", "review_end", "funding_start", "funding_end", "jury_end",
             "results_at")
    return {"name": f"Wettbewerb {year}", "slug": f"wettbewerb-{year}",
            **{name: f"{year}-{month:02d}-01T12:00" for month, name in enumerate(dates, start=2)}}


# --- one attempt -----------------------------------------------------------------------------------------------
def error_shown(html: str, field: str) -> bool:
    return re.search(rf'id="[\w-]*{re.escape(field)}-error"', html) is not None


def new_strings(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    """Every text value of rows that are new or changed."""
    found = []
    for table, rows in after.items():
        old = {repr(row) for row in before.get(table, [])}
        found += [value for row in rows if repr(row) not in old for value in row if isinstance(value, str)]
    return found


class Attempts:
    def __init__(self, app: Flask, session: Session, world: World, target: Target) -> None:
        self.app, self.session, self.world, self.target = app, session, world, target
        self.count, self.problems = 0, []
        self.client = app.test_client()
        self.csrf = log_in(self.client, world.people.get(target.role) if target.role else None)
        self.names = {"reward": world.reward.id, "criterion": world.criterion_id,
                      "other_reward": world.draft_reward.id, "entry": world.entry.id,
                      "other_entry": session.scalars(select(Project.id).where(
                          Project.contest_id == world.jury_contest.id, Project.id != world.entry.id)).one()}

    def field(self, name: str) -> str:
        return name.format(**self.names)

    def form(self) -> HtmlForm:
        page = self.client.get(self.target.page(self.world))
        assert page.status_code == 200, (self.target.name, page.status_code)
        form = form_for(page.get_data(as_text=True), self.target.action(self.world))
        form.fields["csrf_token"] = [self.csrf]  # the page's token belongs to the same session
        return form

    def send(self, field: str, value: object, *, must_refuse: bool, label: str) -> None:
        self.count += 1
        target, where = self.target, f"{self.target.name}: {field}={label}"
        if target.fresh_client:
            self.client = self.app.test_client()
            self.client.environ_base["REMOTE_ADDR"] = f"127.0.{self.count // 250}.{self.count % 250 + 1}"
            self.csrf = log_in(self.client, None)
        if target.prepare:
            target.prepare(self.session, self.world)
        fill = {self.field(k): v for k, v in target.fill(self.world, self.count).items()}
        data = self.form().data(**{**fill, field: value})
        before = snapshot(self.session)
        response = self.client.post(target.action(self.world), data=urlencode(data, doseq=True),
                                    content_type="application/x-www-form-urlencoded")
        html = response.get_data(as_text=True)
        after = snapshot(self.session)
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{where}: server error {status}")
            return
        refused = status >= 400 or (status == 200 and re.search(r'id="[\w-]*-error"', html) is not None)
        if refused:
            if changed_tables(before, after):
                self.problems.append(f"{where}: refused ({status}) but changed {changed_tables(before, after)}")
            if (status, label) in ((413, "1M"), (400, "nul")):  # too large for a form; NUL is refused outright
                return
            lenient = target.refuse_all or value in EXTREME_DATES + EXTREME_DATETIMES  # may upset another field
            if status not in (409, 422) or (status == 422 and not error_shown(html, field if not lenient else "")):
                self.problems.append(f"{where}: refused with {status} without an error on the field")
            return
        if must_refuse or target.refuse_all or label == "nul":
            self.problems.append(f"{where}: accepted ({status}), expected a refusal")
            return
        if isinstance(value, str | bytes) and field not in target.secret and field in target.texts:
            self.check_stored(where, sent_text(value), before, after)

    def check_stored(self, where: str, text: str, before, after) -> None:
        strings = new_strings(before, after)
        wanted = text.replace("\r\n", "\n").strip()
        if not any(wanted in s.replace("\r\n", "\n") for s in strings):
            self.problems.append(f"{where}: accepted but not stored as typed (new values: "
                                 f"{[s[:60] for s in strings][:8]})")
        if text == SCRIPT and self.target.shown:
            html = self.client.get(self.target.shown(self.world)).get_data(as_text=True)
            if "<script>alert(" in html or "<img src=x onerror" in html:
                self.problems.append(f"{where}: shown unescaped on {self.target.shown(self.world)}")


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_hostile_values_are_refused_on_the_field_or_stored_as_typed(app, session: Session, target: Target):
    world = build_world(app, session)
    attempts = Attempts(app, session, world, target)
    for n, field in enumerate(target.texts):
        for label, value in TEXTS.items():
            if n == 0 or label in SECOND_FIELDS:
                attempts.send(field, value, must_refuse=False, label=label)
    for field in target.choices:
        for value in CHOICES:
            attempts.send(field, attempts.field(value), must_refuse=True, label=value[:12])
    for field in target.amounts:
        for value in AMOUNTS:
            attempts.send(attempts.field(field), value, must_refuse=True, label=value)
    for field in target.integers:
        for value in INTEGERS:
            attempts.send(attempts.field(field), value, must_refuse=True, label=value)
    for field in target.dates:
        for value in DATES:
            attempts.send(field, value, must_refuse=True, label=value)
        for value in EXTREME_DATES:
            attempts.send(field, value, must_refuse=False, label=value)
    for field in target.datetimes:
        for value in DATETIMES:
            attempts.send(field, value, must_refuse=True, label=value)
        for value in EXTREME_DATETIMES:
            attempts.send(field, value, must_refuse=False, label=value)
    assert attempts.count, "nothing was sent"
    assert not attempts.problems, "\n".join(attempts.problems)


# --- double submits: the same form (same CSRF token, same hidden fields) sent twice has one effect ------------
def count(session: Session, column, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count(column)).where(*where)) or 0


def test_a_pledge_sent_twice_is_one_pledge(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["juror"])
    path = f"/projects/{world.campaign.slug}/pledge"
    form = form_for(client.get(path).get_data(as_text=True), path)
    data = form.data(csrf_token=csrf, amount_eur="25")
    first, second = client.post(path, data=data), client.post(path, data=data)
    assert first.status_code == 302 and second.status_code == 302
    assert count(session, Pledge.id, Pledge.backer_id == world.people["juror"].id) == 1


def test_a_cancel_sent_twice_cancels_once(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["backer"])
    responses = [client.post(f"/pledges/{world.pledge.id}/cancel", data={"csrf_token": csrf}) for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert count(session, AuditEntry.id, AuditEntry.entity_type == "pledge", AuditEntry.entity_id == world.pledge.id,
                 AuditEntry.to_state == "cancelled") == 1


def test_a_refund_sent_twice_refunds_once(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["finance"])
    path = f"/finance/pledges/{world.paid_pledge.id}/refund"
    data = form_for(client.get(path).get_data(as_text=True), path).data(csrf_token=csrf, amount="10")
    responses = [client.post(path, data=data) for _ in range(2)]
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    assert count(session, LedgerEntry.id, LedgerEntry.kind == "refund") == 1


def test_a_payout_approval_sent_twice_books_once(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["admin"])  # not the finance person who requested it: four eyes
    path = f"/finance/payouts/{world.payout.id}/approve"
    data = form_for(client.get("/finance/payouts").get_data(as_text=True), path).data(csrf_token=csrf)
    responses = [client.post(path, data=data) for _ in range(2)]
    assert [r.status_code for r in responses] == [303, 303]
    assert count(session, LedgerEntry.id, LedgerEntry.kind == "payout") == 1


def test_a_conflict_declared_twice_is_one_conflict(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["juror"])
    path = f"/jury/{world.jury_contest.slug}/conflicts"
    data = form_for(client.get(path).get_data(as_text=True), path).data(csrf_token=csrf, project=str(world.entry.id),
                                                                          note="neighbour")
    responses = [client.post(path, data=data) for _ in range(2)]
    assert responses[0].status_code == 302 and responses[1].status_code < 500
    assert count(session, JuryConflict.id) == 2  # the world's one and this one


def test_a_conflict_recorded_twice_by_an_admin_is_one_conflict(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["admin"])
    page, path = f"/admin/jury/{world.jury_contest.slug}", f"/admin/jury/{world.jury_contest.slug}/conflicts"
    data = form_for(client.get(page).get_data(as_text=True), path).data(
        csrf_token=csrf, juror=str(world.people["juror"].id), project=str(world.entry.id), note="neighbour")
    responses = [client.post(path, data=data) for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert count(session, JuryConflict.id) == 2  # the world's one and this one
    assert count(session, AuditEntry.id, AuditEntry.entity_type == "jury_conflict",
                 AuditEntry.entity_id != world.conflict_id) == 1


def test_a_registration_sent_twice_makes_one_account(app, session: Session):
    build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, None)
    data = {"csrf_token": csrf, "name": "Twice", "email": "twice@example.org", "password": PASSWORD,
            "confirm": PASSWORD}
    responses = [client.post("/auth/register", data=data) for _ in range(2)]
    other = app.test_client()
    data["csrf_token"] = log_in(other, None)
    third = other.post("/auth/register", data=data)
    assert [r.status_code for r in responses] == [302, 302]
    assert third.status_code == 422 and error_shown(third.get_data(as_text=True), "email")
    from crowdfund.models.users import User
    assert count(session, User.id, User.email == "twice@example.org") == 1


# --- filters sent by GET and other small inputs ------------------------------------------------------------------
FILTERS = [
    "/projects?q=" + "x" * 10_000, "/projects?q=%00", "/projects?page=99999999999999999999", "/projects?page=-1",
    "/projects?sort=%3Cscript%3E", "/projects?district=%ff", "/districts/%00",
    "/finance/?start=9999-12-31&end=9999-12-31", "/finance/?start=0001-01-01", "/finance/?start=2026-02-30",
    "/finance/exports/journal.csv?start=9999-12-31&end=9999-12-31",
    "/finance/exports/datev.csv?start=0001-01-01&end=0001-01-31",
    "/finance/exports/datev.csv?start=2026-12-31&end=2026-01-01", "/finance/?project=99999999999999999999",
    "/finance/reconciliation?start=9999-12-31&end=9999-12-31", "/finance/?state=%00",
    "/finance/exports/receipts.zip?start=9999-12-31&end=9999-12-31",
    "/admin/review?q=%00", "/admin/outbox?status=%00",
]


def test_hostile_filters_answer_with_a_page_or_a_bad_request(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    log_in(client, world.people["admin"])
    answers = {}
    for url in FILTERS:
        response = client.get(url)
        answers[url] = response.status_code
        response.close()
    assert all(status in (200, 400, 404) for status in answers.values()), answers


LANGUAGE_TARGETS = ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil.example"]


def test_the_language_switch_never_sends_people_elsewhere(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["backer"])
    for target in LANGUAGE_TARGETS:
        response = client.post("/language", data={"csrf_token": csrf, "lang": "<script>", "next": target})
        location = response.headers.get("Location", "")
        assert response.status_code == 302 and location.startswith("/"), (target, response.status_code, location)
        assert not location.startswith(("//", "/\\")), (target, location)
    assert client.post("/language", data={"csrf_token": csrf, "lang": "en", "next": "\x00/"}).status_code == 400


def test_a_role_that_does_not_exist_changes_nothing(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    csrf = log_in(client, world.people["admin"])
    user = world.people["backer"]
    before = snapshot(session)
    response = client.post(f"/admin/users/{user.id}/roles",
                           data={"csrf_token": csrf, f"u{user.id}-roles": ["superuser", "admin "]})
    assert response.status_code == 302 and not changed_tables(before, snapshot(session))


# --- the JSON API ------------------------------------------------------------------------------------------------
BODIES = [
    ("amount_cents", "2500"), ("amount_cents", 25.5), ("amount_cents", -100), ("amount_cents", 0),
    ("amount_cents", 2**63), ("amount_cents", 10**30), ("amount_cents", True), ("amount_cents", None),
    ("amount_cents", [2500]), ("reward_id", 2**63), ("reward_id", "x"), ("reward_id", -1),
    ("message", "m" * 100_000), ("message", "a\x00b"), ("message", 5), ("payment_method_type", "bitcoin"),
    ("payment_method_type", "card\x00"), ("anonymous", "maybe"), ("unexpected", "field"),
]


def test_hostile_api_bodies_are_a_422_naming_the_field(app, session: Session):
    world = build_world(app, session)
    client = app.test_client()
    before = snapshot(session)
    problems = []
    for field, value in BODIES:
        body = {"amount_cents": 2500, "payment_method_type": "card", field: value}
        response = client.post(f"/api/v1/projects/{world.campaign.slug}/pledges", json=body,
                               headers={"Authorization": f"Bearer {world.tokens['juror']}"})
        if response.status_code != 422 or field not in (response.get_json() or {}).get("errors", {}):
            text = response.get_data(as_text=True)[:200]
            problems.append(f"{field}={str(value)[:30]!r}: {response.status_code} {text}")
    assert not problems, "\n".join(problems)
    assert not changed_tables(before, snapshot(session))


def test_a_pledge_message_of_every_script_is_stored_as_typed(app, session: Session):
    world = build_world(app, session)
    message = "Viel Glück! \u202e \U0001f389 e\u0301 " + SCRIPT
    response = app.test_client().post(f"/api/v1/projects/{world.campaign.slug}/pledges",
                                      json={"amount_cents": 2500, "payment_method_type": "card", "message": message},
                                      headers={"Authorization": f"Bearer {world.tokens['juror']}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert session.get(Pledge, response.get_json()["id"]).message == message


@pytest.mark.parametrize("day", ["1999-01-01", *EXTREME_DATES])
def test_an_export_dated_far_off_is_a_file_or_a_message_on_the_date(app, session: Session, day: str):
    """With an approved payout waiting, a real but far-off execution date gives the file or the field's error
    (nothing written), never a server error."""
    world = build_world(app, session)
    payouts.approve_payout(session, world.payout.id, expected_cents=world.payout.amount_cents,
                           actor_id=world.people["admin"].id)
    session.commit()
    client = app.test_client()
    csrf = log_in(client, world.people["finance"])
    data = form_for(client.get("/finance/payouts").get_data(as_text=True), "/finance/payouts/export").data(
        csrf_token=csrf, execution_date=day)
    before = snapshot(session)
    response = client.post("/finance/payouts/export", data=data)
    if response.status_code == 303:
        assert "/finance/payouts/exports/" in response.headers["Location"]
    else:
        assert response.status_code == 422, response.status_code
        assert error_shown(response.get_data(as_text=True), "execution_date")
        assert not changed_tables(before, snapshot(session))
