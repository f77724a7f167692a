"""Roles a user can hold and what they may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    BACKER = "backer"
    INITIATOR = "initiator"
    JUROR = "juror"
    FINANCE = "finance"
    ADMIN = "admin"


def parse_role(value: str) -> Role:
    """Return the role named `value`; raise ValueError naming the valid roles otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {value!r}; valid roles: {valid}") from None


def effective_roles(stored: set[Role]) -> frozenset[Role]:
    """Return the roles a user acts with: everyone is a backer, whatever is stored."""
    return frozenset(stored | {Role.BACKER})
