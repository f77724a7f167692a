"""SQLAlchemy 2.0 typed models, one module per feature. Importing this registers every table."""

from crowdfund.models.audit import AuditEntry
from crowdfund.models.contests import Contest, District
from crowdfund.models.jury import JuryConfig, Scorecard  # the module registers every jury table
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.outbox import OutboxMessage
from crowdfund.models.payments import PaymentAttempt, PaymentCustomer, WebhookEvent
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project, ProjectUpdate, TeamMember
from crowdfund.models.receipts import Payout, Receipt, ReceiptCounter  # the module registers every finance table
from crowdfund.models.rewards import Reward
from crowdfund.models.users import ApiToken, User, UserRole

__all__ = [
    "ApiToken", "AuditEntry", "Contest", "District", "JuryConfig", "LedgerEntry", "Match", "MatchingPot",
    "OutboxMessage", "PaymentAttempt", "PaymentCustomer", "Payout", "Pledge", "Project", "ProjectUpdate", "Receipt",
    "ReceiptCounter", "Reward", "Scorecard", "TeamMember", "User", "UserRole", "WebhookEvent",
]
