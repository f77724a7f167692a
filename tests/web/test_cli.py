from sqlalchemy import func, select

from crowdfund.models import Contest, District, Project, User
from crowdfund.models.users import ApiToken


def test_create_user_with_repeated_roles(runner, session):
    result = runner.invoke(args=["create-user", "--email", "Chef@Example.org", "--password", "long enough pw",
                                 "--name", "Chefin", "--role", "admin", "--role", "finance"])
    assert result.exit_code == 0, result.output
    user = session.scalars(select(User)).one()
    assert user.email == "chef@example.org" and {r.value for r in user.roles} == {"admin", "finance", "backer"}


def test_create_user_refuses_a_duplicate_email_clearly(runner, session):
    args = ["create-user", "--email", "a@example.org", "--password", "long enough pw", "--name", "A"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "already exists" in result.output
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_create_user_refuses_an_unknown_role_clearly(runner, session):
    result = runner.invoke(args=["create-user", "--email", "a@example.org", "--password", "long enough pw",
                                 "--name", "A", "--role", "boss"])
    assert result.exit_code == 2 and "unknown role 'boss'" in result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_create_token_prints_it_once_and_stores_only_a_hash(runner, session):
    runner.invoke(args=["create-user", "--email", "a@example.org", "--password", "long enough pw", "--name", "A"])
    result = runner.invoke(args=["create-token", "--email", "a@example.org"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("cfk_")
    row = session.scalars(select(ApiToken)).one()
    assert token not in (row.token_hash, row.prefix)


def test_create_token_for_an_unknown_user_is_a_clear_error(runner):
    result = runner.invoke(args=["create-token", "--email", "ghost@example.org"])
    assert result.exit_code == 1 and "No user" in result.output


def counts(session):
    return [session.scalar(select(func.count()).select_from(m)) for m in (District, Contest, User, Project)]


def test_seed_demo_fills_an_empty_database_and_a_second_run_changes_nothing(runner, session):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.crowdfunding-kassel.de" in first.output
    after_first = counts(session)
    assert after_first[0] == 23 and after_first[1] == 1 and after_first[2] == 5 and after_first[3] >= 5
    second = runner.invoke(args=["seed-demo"])
    assert "nothing new" in second.output and counts(session) == after_first


def test_seed_demo_generates_synthetic_projects_on_request(runner, session):
    runner.invoke(args=["seed-demo"])
    before = counts(session)[3]
    assert runner.invoke(args=["seed-demo", "--projects", "30"]).exit_code == 0
    assert counts(session)[3] == before + 30
    runner.invoke(args=["seed-demo", "--projects", "30"])
    assert counts(session)[3] == before + 30
