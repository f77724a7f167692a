"""Data protection (GDPR): a person's data export (Art. 15, 20) and account deletion by pseudonymisation (Art. 17).

Rules:
- The export holds everything stored about the person and nothing about anyone else: audit rows say only
  whether the person acted themselves, never who else did; receipts are listed without their PDF bytes.
- Deleting an account pseudonymises the person instead of deleting rows: pledges, receipts (their stored PDF
  bytes untouched) and ledger entries reference the user id only and must be kept for the retention period
  (§ 147 AO, § 257 HGB: 10 years). Name, e-mail, password, language, roles, tokens, the receipt address and
  pledge messages go; open pledges of open campaigns are cancelled, all others are kept as they are.
- The last active admin cannot delete their account: the platform would have nobody to run it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from crowdfund.domain.pledges import CHANGEABLE
from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.contests import Contest
from crowdfund.models.jury import JuryComment, JuryConflict, JuryMember, Scorecard
from crowdfund.models.payments import PaymentCustomer
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.receipts import Receipt, ReceiptAddress
from crowdfund.models.users import ApiToken, User, UserRole
from crowdfund.services import accounts, pledges
from crowdfund.services.audit import record_change

EXPORT_FORMAT = "crowdfund-kassel-export/1"
DELETED_NAME = "Gelöschte Person #{id}"
DELETED_EMAIL = "deleted-{id}@invalid"
CANCEL_REASON = "account deleted"


class SoleAdmin(Exception):
    """The account is the only active admin account; deleting it would leave the platform without one."""


@dataclass(frozen=True)
class DeletionReport:
    cancelled_pledge_ids: tuple[int, ...]
    kept_pledge_ids: tuple[int, ...]


# -- deletion ---------------------------------------------------------------------------------------------
def is_sole_admin(session: Session, user: User) -> bool:
    """Tell whether `user` holds the admin role and no other active user does."""
    if Role.ADMIN.value not in {row.role for row in user.role_rows}:
        return False
    others = (select(func.count()).select_from(UserRole).join(User, User.id == UserRole.user_id)
              .where(UserRole.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id))
    return session.scalar(others) == 0


def delete_account(session: Session, user: User, *, now: datetime) -> DeletionReport:
    """Pseudonymise `user`, keeping every row that law or other people need; raise SoleAdmin for the last admin.

    Open pledges of campaigns that still take changes are cancelled through the pledge service (reward units
    and matches go back); pledges past that point are kept and settled as usual."""
    # Two admins deleting themselves at once must not both pass the check: lock the admin role rows first.
    session.scalars(select(UserRole.id).where(UserRole.role == Role.ADMIN.value).with_for_update()).all()
    if is_sole_admin(session, user):
        raise SoleAdmin(f"user {user.id} is the only active admin")
    cancelled, kept = _cancel_open_pledges(session, user, now=now)
    _blank_pledges(session, user)
    accounts.set_roles(session, user, (), actor_id=user.id)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.execute(delete(ReceiptAddress).where(ReceiptAddress.user_id == user.id))
    session.expire(user, ["tokens"])
    _pseudonymise(user, now=now)
    session.flush()
    record_change(session, entity_type="user", entity_id=user.id, action="pseudonymised", actor_id=user.id,
                  reason=f"cancelled pledges {list(cancelled)}, kept {list(kept)}")
    return DeletionReport(tuple(cancelled), tuple(kept))


def _cancel_open_pledges(session: Session, user: User, *, now: datetime) -> tuple[list[int], list[int]]:
    cancelled, kept = [], []
    for pledge in session.scalars(select(Pledge).where(Pledge.backer_id == user.id).order_by(Pledge.id)):
        if pledge.status == "cancelled":
            continue
        if pledge.status in CHANGEABLE and pledges.is_open(pledge.project, now):
            try:
                pledges.cancel_pledge(session, pledge, actor_id=user.id, now=now, reason=CANCEL_REASON)
            except (pledges.PledgeClosed, pledges.PledgeNotChangeable):  # raised before anything is written
                kept.append(pledge.id)
            else:
                cancelled.append(pledge.id)
        else:
            kept.append(pledge.id)
    return cancelled, kept


def _blank_pledges(session: Session, user: User) -> None:
    """Drop the free text of the person's pledges and hide them from public backer lists."""
    for pledge in session.scalars(select(Pledge).where(Pledge.backer_id == user.id)):
        pledge.message = ""
        pledge.anonymous = True


def _pseudonymise(user: User, *, now: datetime) -> None:
    user.name = DELETED_NAME.format(id=user.id)
    user.email = DELETED_EMAIL.format(id=user.id)
    # No "method$salt$hash" form: no password ever matches; the new tail ends every session and reset link.
    user.password_hash = "!deleted!" + secrets.token_hex(24)
    user.password_changed_at = now
    user.locale = None
    user.active = False


# -- export -----------------------------------------------------------------------------------------------
def export_user_data(session: Session, user: User, *, now: datetime) -> dict[str, Any]:
    """Return everything stored about `user` as JSON-ready data (Art. 15 and 20 GDPR), nothing about others."""
    mine = _Rows(session)
    pledge_rows = mine(Pledge, Pledge.backer_id == user.id)
    projects = mine(Project, Project.initiator_id == user.id)
    tokens = mine(ApiToken, ApiToken.user_id == user.id)
    jury = _jury(mine, user)
    owned = {"user": [user.id], "api_token": [t.id for t in tokens], "pledge": [p.id for p in pledge_rows],
             "project": [p.id for p in projects], "scorecard": jury.pop("_scorecard_ids"),
             "jury_conflict": jury.pop("_conflict_ids")}
    address = mine(ReceiptAddress, ReceiptAddress.user_id == user.id)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _value(now),
        "profile": _fields(user, "id", "name", "email", "locale", "active", "created_at", "password_changed_at"),
        "roles": sorted(role.value for role in user.roles),
        "api_tokens": [_fields(t, "id", "name", "prefix", "created_at", "last_used_at", "revoked_at") for t in tokens],
        "receipt_address": _fields(address[0], "name", "address", "updated_at") if address else None,
        "payment_customers": [_fields(c, "provider", "customer_id", "created_at")
                              for c in mine(PaymentCustomer, PaymentCustomer.user_id == user.id)],
        "pledges": [_pledge(p) for p in pledge_rows],
        "receipts": [_receipt(r) for r in mine(Receipt, Receipt.backer_id == user.id)],
        "projects_initiated": [_project(p) for p in projects],
        "jury": jury,
        "audit_entries": _audit(mine, user, owned),
    }


class _Rows:
    """`rows(Model, condition)`: the model's rows matching `condition`, in id order."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(self, model: Any, condition: Any) -> list[Any]:
        return list(self.session.scalars(select(model).where(condition).order_by(model.id)))


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _fields(row: Any, *names: str) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in names}


def _project_ref(project: Project) -> dict[str, Any]:
    return _fields(project, "id", "slug", "title")


def _pledge(pledge: Pledge) -> dict[str, Any]:
    data = _fields(pledge, "id", "amount_cents", "currency", "status", "anonymous", "message", "payment_method_type",
                   "paid_cents", "refunded_cents", "customer_id", "setup_intent_id", "payment_method_id",
                   "payment_intent_id", "action_required_at", "paid_at", "created_at", "updated_at")
    data["project"] = _project_ref(pledge.project)
    data["reward"] = _fields(pledge.reward, "id", "title", "min_amount_cents") if pledge.reward else None
    return data


def _receipt(receipt: Receipt) -> dict[str, Any]:
    data = _fields(receipt, "number", "kind", "status", "pledge_id", "amount_cents", "currency", "language",
                   "issue_date", "issued_at", "retention_until", "sha256", "size_bytes")
    data["project"] = _project_ref(receipt.project)
    data["download"] = f"/receipts/{receipt.number}.pdf" if receipt.status == "issued" else None
    return data


def _project(project: Project) -> dict[str, Any]:
    data = _fields(project, "id", "slug", "title", "pitch", "description", "category", "state", "threshold_cents",
                   "goal_cents", "currency", "deadline", "recipient_name", "recipient_address",
                   "recipient_tax_privileged", "created_at", "updated_at", "published_at")
    data["team"] = [_fields(m, "name", "role") for m in project.team]
    data["rewards"] = [_fields(r, "id", "title", "description", "min_amount_cents", "quantity_total")
                       for r in project.rewards]
    data["updates"] = [_fields(u, "title", "body", "created_at") for u in project.updates]
    return data


def _jury(mine: _Rows, user: User) -> dict[str, Any]:
    """The person's jury work; `_scorecard_ids` and `_conflict_ids` are for the audit query (popped)."""
    contest_ids = [m.contest_id for m in mine(JuryMember, JuryMember.user_id == user.id)]
    conflicts = mine(JuryConflict, JuryConflict.juror_id == user.id)
    cards = mine(Scorecard, Scorecard.juror_id == user.id)
    return {
        "contests": [_fields(c, "id", "slug", "name") for c in mine(Contest, Contest.id.in_(contest_ids))],
        "conflicts": [{**_fields(c, "contest_id", "kind", "note", "created_at"), "project": _project_ref(c.project),
                       "declared_by_you": c.declared_by_id == user.id} for c in conflicts],
        "scorecards": [_fields(s, "contest_id", "project_id", "scores", "comment", "status", "submitted_at",
                               "created_at", "updated_at") for s in cards],
        "comments": [_fields(c, "contest_id", "project_id", "body", "created_at")
                     for c in mine(JuryComment, JuryComment.author_id == user.id)],
        "_scorecard_ids": [s.id for s in cards],
        "_conflict_ids": [c.id for c in conflicts],
    }


def _audit(mine: _Rows, user: User, owned: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Audit rows about the person and what is theirs; who else acted is not said, only whether they did."""
    about = [(AuditEntry.entity_type == kind) & AuditEntry.entity_id.in_(ids) for kind, ids in owned.items() if ids]
    return [{**_fields(a, "entity_type", "entity_id", "action", "from_state", "to_state", "reason", "created_at"),
             "by_you": a.actor_id == user.id} for a in mine(AuditEntry, or_(*about))]
