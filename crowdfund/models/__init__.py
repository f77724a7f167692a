"""SQLAlchemy 2.0 typed models, one module per feature. Importing this registers every table."""

from crowdfund.models.audit import AuditEntry
from crowdfund.models.contests import Contest, District
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project, ProjectUpdate, TeamMember
from crowdfund.models.rewards import Reward
from crowdfund.models.users import ApiToken, User, UserRole

__all__ = [
    "ApiToken", "AuditEntry", "Contest", "District", "Pledge", "Project", "ProjectUpdate", "Reward",
    "TeamMember", "User", "UserRole",
]
