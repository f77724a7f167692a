"""schemathesis against /api/v1/openapi.json, in-process (WSGI): for every operation, requests generated from
the schema (valid ones and ones that break it), with a backer's Bearer token; no answer may be a server error,
and every answer must be documented, with the documented content type and schema.

The operations' path parameters are either generated or the world's own (the backer's pledge and receipt, a
live campaign, the jury contest), so the checks reach past the 404s. Deterministic and small: derandomized,
a few examples per operation and mode. (schemathesis' own pytest plugin needs pytest < 9 for fixture-built
schemas, hence the plain Hypothesis loop over the operations.)"""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.adversarial_world import build_world


def status_code_listed(ctx, response, case) -> None:
    """Stricter than status_code_conformance: every answer's code is listed itself, not only as `default`."""
    listed = set(case.operation.definition.raw["responses"]) - {"default"}
    if str(response.status_code) not in listed:
        raise AssertionError(f"{case.operation.label} answered {response.status_code}, which its documentation "
                             f"does not list ({sorted(listed)}): {response.text[:200]}")


CHECKS = [not_a_server_error, status_code_conformance, status_code_listed, content_type_conformance,
          response_schema_conformance]
EXAMPLES = settings(max_examples=20, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def test_the_api_answers_every_generated_request_as_documented(app, session):
    world = build_world(app, session)
    known = {"pledge_id": world.pledge.id, "number": world.receipt.number}
    slugs = {"/api/v1/projects/": world.campaign.slug, "/api/v1/contests/": world.jury_contest.slug}
    headers = {"Authorization": f"Bearer {world.tokens['backer']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: dict[str, str] = {}
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11, [op.label for op in operations]
    for operation in operations:
        names = set(re.findall(r"{(\w+)}", operation.path))
        fixed = {name: value for name, value in known.items() if name in names}
        for prefix, slug in slugs.items():
            if "slug" in names and operation.path.startswith(prefix):
                fixed["slug"] = slug
        strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        if fixed:
            strategies += [operation.as_strategy(mode, path_parameters=fixed)
                           for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]

        @EXAMPLES
        @given(case=st.one_of(strategies))
        def check(case):
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            seen.setdefault(case.operation.label, set()).add(response.status_code)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, report them all
            parts = getattr(exc, "exceptions", [exc])
            failures[operation.label] = "\n".join(str(part)[:2500] for part in parts)

    # The token worked and the world's things were found: the checks saw real answers, not only refusals.
    for label in ("GET /api/v1/me", "GET /api/v1/pledges/{pledge_id}", "GET /api/v1/receipts/{number}.pdf",
                  "GET /api/v1/projects/{slug}"):
        assert 200 in seen.get(label, set()), (label, seen.get(label))
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


def test_a_body_that_is_not_json_is_a_400_naming_the_body(app, session):
    world = build_world(app, session)
    response = app.test_client().post(f"/api/v1/projects/{world.campaign.slug}/pledges", data=b"\xb8{",
                                      content_type="application/json",
                                      headers={"Authorization": f"Bearer {world.tokens['other_initiator']}"})
    assert response.status_code == 400 and response.get_json()["errors"] == {"json": ["Invalid JSON body."]}
