"""Exports: raw scores as streamed CSV, the PDF jury protocol, and `flask jury-results` as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest

from crowdfund.services import jury_protocol
from receipts.fake_pdf import render_fake_pdf
from tests.conftest import AuthActions
from tests.factories import PASSWORD
from tests.services.test_jury_world import make_jury_world, score

ONE_CRITERION = (("Overall", "1", 0, 10),)


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def scored(session):
    world = make_jury_world(session, n_entries=2)
    first, second = world.entries
    score(session, world, world.jurors[0], first, 8, 6, comment="=HYPERLINK(\"http://evil\")")
    score(session, world, world.jurors[1], first, 4, 2)
    score(session, world, world.jurors[0], second, 5, None, submit=False)
    return world


def test_the_raw_scores_are_streamed_as_csv_one_line_per_scorecard(client, scored):
    AuthActions(client).login(scored.admin.email, PASSWORD)
    response = client.get(f"/admin/jury/{scored.contest.slug}/scores.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["project", "title", "juror", "status", "submitted_at", "Impact", "Feasibility", "total",
                       "comment"]
    by_juror = {(r[1], r[2]): r for r in rows[1:]}
    assert by_juror["Entry A", "Juror A"][5:8] == ["8", "6", "73.333"]  # (2 * 80 + 60) / 3
    assert by_juror["Entry A", "Juror A"][8].startswith("'=")  # a formula stays text in spreadsheets
    assert by_juror["Entry B", "Juror A"][3:8] == ["draft", "", "5", "", ""]


def test_the_raw_scores_are_for_admins_only(client, scored):
    AuthActions(client).login(scored.jurors[0].email, PASSWORD)
    assert client.get(f"/admin/jury/{scored.contest.slug}/scores.csv").status_code == 403


def test_the_jury_protocol_is_a_pdf_rendered_from_static_files_only(client, scored):
    AuthActions(client).login(scored.admin.email, PASSWORD)
    response = client.get(f"/admin/jury/{scored.contest.slug}/protocol.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and len(response.data) > 5_000


def test_the_protocol_lists_the_ranking_and_the_history(app, scored):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask import render_template

        from crowdfund import db
        from crowdfund.db import utcnow
        from crowdfund.services import jury, jury_results

        results = jury_results.compute_results(db.session(), scored.contest, utcnow())
        html = render_template("jury_admin/protocol.html", results=results,
                               history=jury.history(db.session(), scored.contest))
    text = render_fake_pdf(html).decode("cp1252")
    assert "Jury protocol" in text and "Entry A" in text and "Start scoring" in text
    assert jury_protocol.render_protocol(html, app.static_folder, renderer=render_fake_pdf).startswith(b"%PDF")


def test_the_cli_prints_the_results_as_csv(runner, scored):
    result = runner.invoke(args=["jury-results", "--contest", scored.contest.slug, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["title"] for r in rows] == ["Entry A", "Entry B"]
    assert rows[0]["jury_score"] == "53.333" and rows[0]["scorecards"] == "2" and rows[1]["scorecards"] == "0"


def test_the_cli_prints_the_results_as_json(runner, scored):
    result = runner.invoke(args=["jury-results", "--contest", scored.contest.slug, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["contest"] == scored.contest.slug and document["crowd_frozen"] is True
    assert document["entries"][0]["title"] == "Entry A" and document["entries"][0]["jury_score"] == 53.333
    assert document["entries"][0]["spread"] == 20.0  # totals 73.33 and 33.33 lie 20 points from their mean


def test_the_cli_names_an_unknown_contest(runner):
    result = runner.invoke(args=["jury-results", "--contest", "nope"])
    assert result.exit_code == 1 and "No contest" in result.output
