import pytest

from crowdfund.domain.roles import Role, effective_roles, parse_role


def test_everyone_is_a_backer_whatever_is_stored():
    assert effective_roles(set()) == {Role.BACKER}
    assert effective_roles({Role.ADMIN}) == {Role.ADMIN, Role.BACKER}


@pytest.mark.parametrize("text", ["admin", " Admin ", "FINANCE"])
def test_role_names_are_parsed_case_insensitively(text):
    assert parse_role(text) in Role


def test_unknown_role_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown role 'boss'; valid roles: backer, initiator, juror"):
        parse_role("boss")
