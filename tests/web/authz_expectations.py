"""Who may do what: the expected answer for every (endpoint, method) of the URL map and every role.

Roles (tests/web/adversarial_world.py): anonymous, backer (owns the pledge in the URL), other_initiator
(initiator of another project), owner (initiator of the project in the URL), juror (on the jury of the
contest in the URL), finance, admin.

An expectation is a set of acceptable status codes, or LOGIN (redirect to the login page), UNAUTH (401 JSON
from the API). Refusals (403, 404 that hides another person's things, LOGIN, UNAUTH) must write nothing;
`quiet(...)` marks an answer that looks like success but must not write either (e.g. revoking somebody
else's token is answered like an unknown token). POSTs are sent with a valid CSRF token and no other data,
so an allowed POST usually answers with its validation error (400/422) or a redirect.

A new route fails tests/web/test_authz_matrix.py until it has an entry here."""

from __future__ import annotations

from typing import NamedTuple


class Expect(NamedTuple):
    codes: frozenset[int]
    denied: bool = False  # a refusal: nothing may change
    login: bool = False  # a redirect to the login page
    json: bool = False  # the answer is JSON (API)


def ok(*codes: int) -> Expect:
    return Expect(frozenset(codes))


def quiet(*codes: int) -> Expect:
    """Answered like success or like a missing thing, but for this role nothing may change."""
    return Expect(frozenset(codes), denied=True)


FORBID = Expect(frozenset({403}), denied=True)
HIDE = Expect(frozenset({404}), denied=True)  # another person's pledge/receipt: existence is not revealed
LOGIN = Expect(frozenset({302}), denied=True, login=True)
UNAUTH = Expect(frozenset({401}), denied=True, json=True)

GET_OK = ok(200)
FORM_ERROR = ok(422)  # a bare POST to a form: the page again with the fields' errors
BAD_REQUEST = ok(400)  # a bare POST to a button-only form whose hidden fields are missing
REDIRECT = ok(302, 303)
PEOPLE = ("backer", "other_initiator", "owner", "juror", "finance", "admin")


def everyone(expect: Expect) -> dict[str, Expect]:
    return {"anonymous": expect, **{role: expect for role in PEOPLE}}


def logged_in(expect: Expect, **special: Expect) -> dict[str, Expect]:
    return {"anonymous": LOGIN, **{role: expect for role in PEOPLE}, **special}


def only(roles: tuple[str, ...], expect: Expect, *, others: Expect = FORBID, **special: Expect) -> dict[str, Expect]:
    return {"anonymous": LOGIN, **{role: expect if role in roles else others for role in PEOPLE}, **special}


def api(expect: Expect, **special: Expect) -> dict[str, Expect]:
    return {"anonymous": UNAUTH, **{role: expect for role in PEOPLE}, **special}


def api_own(expect: Expect, *, sees_all: bool = False) -> dict[str, Expect]:
    allowed = ("backer", "finance", "admin") if sees_all else ("backer",)
    return {"anonymous": UNAUTH, **{role: expect if role in allowed else HIDE for role in PEOPLE}}


ADMIN = ("admin",)
FINANCE = ("finance", "admin")
INITIATORS = ("owner", "other_initiator")
OWNER = ("owner",)
OWNER_OR_ADMIN = ("owner", "admin")
JUROR = ("juror",)
BACKER = ("backer",)


def own_pledge(expect: Expect) -> dict[str, Expect]:
    """The backer's own pledge: everybody else is told it does not exist."""
    return only(BACKER, expect, others=HIDE)


def admin_only(expect: Expect) -> dict[str, Expect]:
    return only(ADMIN, expect)


def finance(expect: Expect) -> dict[str, Expect]:
    return only(FINANCE, expect)


def initiator_own(expect: Expect, *, admin: bool = False) -> dict[str, Expect]:
    """A page about one project of the initiator's: another initiator gets 403, so do people without the
    initiator role (admins only where `admin`)."""
    return only(OWNER_OR_ADMIN if admin else OWNER, expect)


EXPECTATIONS: dict[tuple[str, str], dict[str, Expect]] = {
    # --- public pages -----------------------------------------------------------------------------------------
    ("main.index", "GET"): everyone(GET_OK),
    ("main.healthz", "GET"): everyone(GET_OK),
    ("main.set_language", "POST"): everyone(REDIRECT),
    ("privacy.notice", "GET"): everyone(GET_OK),
    ("privacy.imprint", "GET"): everyone(GET_OK),
    ("campaigns.index", "GET"): everyone(GET_OK),
    ("campaigns.detail", "GET"): everyone(GET_OK),
    ("campaigns.widget", "GET"): everyone(GET_OK),
    ("campaigns.districts", "GET"): everyone(GET_OK),
    ("campaigns.district", "GET"): everyone(GET_OK),
    ("results.show", "GET"): everyone(ok(404)),  # the jury contest's results are not published yet
    # a draft's cover image: only its initiator and admins learn that the draft exists
    ("projects.cover", "GET"): {**everyone(HIDE), "owner": GET_OK, "admin": GET_OK},
    ("payments.stripe_webhook", "POST"): everyone(ok(400)),  # no valid signature
    # --- accounts ------------------------------------------------------------------------------------------------
    ("auth.login", "GET"): {**everyone(REDIRECT), "anonymous": GET_OK},
    ("auth.login", "POST"): {**everyone(REDIRECT), "anonymous": FORM_ERROR},
    ("auth.register", "GET"): {**everyone(REDIRECT), "anonymous": GET_OK},
    ("auth.register", "POST"): {**everyone(REDIRECT), "anonymous": FORM_ERROR},
    ("auth.logout", "POST"): everyone(REDIRECT),
    ("auth.reset_request", "GET"): everyone(GET_OK),
    ("auth.reset_request", "POST"): everyone(FORM_ERROR),
    ("auth.reset_password", "GET"): everyone(GET_OK),  # whoever holds the mailed link
    ("auth.reset_password", "POST"): everyone(FORM_ERROR),
    ("account.profile", "GET"): logged_in(GET_OK),
    ("account.update_profile", "POST"): logged_in(FORM_ERROR),
    ("account.change_password", "POST"): logged_in(FORM_ERROR),
    ("account.create_token", "POST"): logged_in(FORM_ERROR),
    # the token in the URL is the backer's: anybody else is told it does not exist and nothing changes
    ("account.revoke_token", "POST"): logged_in(quiet(302), backer=REDIRECT),
    ("privacy.export", "GET"): logged_in(GET_OK),
    ("privacy.delete", "GET"): logged_in(GET_OK),
    ("privacy.delete", "POST"): logged_in(FORM_ERROR, admin=quiet(409)),  # the only admin cannot leave
    ("account_receipts.mine", "GET"): logged_in(GET_OK),
    ("account_receipts.save_address", "POST"): logged_in(FORM_ERROR),
    ("account_receipts.download", "GET"): only(("backer", "finance", "admin"), GET_OK, others=HIDE),
    # --- pledges (the pledge in the URL is the backer's) ------------------------------------------------------
    ("pledges.new", "GET"): logged_in(GET_OK, backer=REDIRECT),  # the backer is sent to the pledge they have
    ("pledges.new", "POST"): logged_in(FORM_ERROR, backer=REDIRECT),
    ("pledges.mine", "GET"): logged_in(GET_OK),
    ("pledges.pay", "GET"): own_pledge(REDIRECT),  # active already: back to the list
    ("pledges.confirm", "POST"): own_pledge(REDIRECT),
    ("pledges.edit", "GET"): own_pledge(GET_OK),
    ("pledges.edit", "POST"): own_pledge(FORM_ERROR),
    ("pledges.cancel", "POST"): own_pledge(REDIRECT),
    ("payments.pay", "GET"): own_pledge(GET_OK),
    ("payments.pay_with_card", "POST"): own_pledge(ok(409)),  # nothing to fix on an active pledge
    ("payments.complete", "POST"): own_pledge(REDIRECT),
    # --- the initiator's pages (the project in the URL is the owner's draft) ---------------------------------
    ("projects.index", "GET"): only(INITIATORS, GET_OK),
    ("projects.new", "GET"): only(INITIATORS, GET_OK),
    ("projects.new", "POST"): only(INITIATORS, FORM_ERROR),
    ("projects.show", "GET"): initiator_own(GET_OK, admin=True),
    ("projects.preview", "GET"): initiator_own(GET_OK, admin=True),
    ("projects.edit", "GET"): initiator_own(GET_OK),
    ("projects.edit", "POST"): initiator_own(FORM_ERROR),
    ("projects.change_state", "POST"): initiator_own(REDIRECT),  # submit: the draft is complete
    ("projects.post_update", "POST"): initiator_own(FORM_ERROR, admin=True),
    ("rewards.new", "GET"): initiator_own(GET_OK),
    ("rewards.new", "POST"): initiator_own(FORM_ERROR),
    ("rewards.edit", "GET"): initiator_own(GET_OK),
    ("rewards.edit", "POST"): initiator_own(FORM_ERROR),
    ("rewards.stock", "POST"): initiator_own(REDIRECT),  # empty: unlimited
    ("rewards.delete", "POST"): initiator_own(REDIRECT),
    # --- review, users, contests, matching (admin) --------------------------------------------------------------
    ("review.queue", "GET"): admin_only(GET_OK),
    ("review.detail", "GET"): admin_only(GET_OK),
    ("review.decide", "POST"): admin_only(FORM_ERROR),
    ("admin.users", "GET"): admin_only(GET_OK),
    ("admin.set_roles", "POST"): admin_only(REDIRECT),
    ("contests.index", "GET"): admin_only(GET_OK),
    ("contests.new", "GET"): admin_only(GET_OK),
    ("contests.new", "POST"): admin_only(FORM_ERROR),
    ("contests.edit", "GET"): admin_only(GET_OK),
    ("contests.edit", "POST"): admin_only(FORM_ERROR),
    ("matching.index", "GET"): admin_only(GET_OK),
    ("matching.new", "GET"): admin_only(GET_OK),
    ("matching.new", "POST"): admin_only(FORM_ERROR),
    ("matching.edit", "GET"): admin_only(GET_OK),
    ("matching.edit", "POST"): admin_only(FORM_ERROR),
    ("admin_outbox.index", "GET"): admin_only(GET_OK),
    ("admin_outbox.retry", "POST"): admin_only(REDIRECT),  # sent already: nothing to do
    # --- jury administration (admin) -----------------------------------------------------------------------------
    ("jury_admin.index", "GET"): admin_only(GET_OK),
    ("jury_admin.overview", "GET"): admin_only(GET_OK),
    ("jury_admin.phase", "POST"): admin_only(BAD_REQUEST),
    ("jury_admin.settings", "POST"): admin_only(FORM_ERROR),
    ("jury_admin.add_juror", "POST"): admin_only(FORM_ERROR),
    ("jury_admin.remove_juror", "POST"): admin_only(REDIRECT),
    ("jury_admin.save_criterion", "POST"): admin_only(FORM_ERROR),
    ("jury_admin.edit_criterion", "GET"): admin_only(GET_OK),
    ("jury_admin.delete_criterion", "POST"): admin_only(REDIRECT),
    ("jury_admin.add_conflict", "POST"): admin_only(FORM_ERROR),
    ("jury_admin.delete_conflict", "POST"): admin_only(REDIRECT),
    ("jury_admin.assign", "POST"): admin_only(REDIRECT),
    ("jury_results_admin.results", "GET"): admin_only(GET_OK),
    ("jury_results_admin.tie_vote", "POST"): admin_only(REDIRECT),
    ("jury_results_admin.decision", "POST"): admin_only(REDIRECT),
    ("jury_results_admin.scores_csv", "GET"): admin_only(GET_OK),
    ("jury_results_admin.protocol_pdf", "GET"): admin_only(GET_OK),
    # --- jurors (the juror sits on the contest's jury; admins are not jurors) -----------------------------------
    ("jury.index", "GET"): only(JUROR, GET_OK),
    ("jury.contest", "GET"): only(JUROR, GET_OK),
    ("jury.conflicts", "GET"): only(JUROR, GET_OK),
    ("jury.conflicts", "POST"): only(JUROR, FORM_ERROR),
    ("jury.entry", "GET"): only(JUROR, GET_OK),
    ("jury.entry", "POST"): only(JUROR, FORM_ERROR),
    ("jury.comment", "POST"): only(JUROR, REDIRECT),
    # --- finance (finance and admin) ------------------------------------------------------------------------
    ("finance.index", "GET"): finance(GET_OK),
    ("finance.journal_export", "GET"): finance(GET_OK),
    ("finance.datev_export", "GET"): finance(GET_OK),
    ("finance.receipts_export", "GET"): finance(GET_OK),
    ("finance.reconciliation", "GET"): finance(GET_OK),
    ("finance.payout_list", "GET"): finance(GET_OK),
    ("finance.payout_request", "GET"): finance(GET_OK),
    ("finance.payout_request", "POST"): finance(FORM_ERROR),
    ("finance.payout_approve", "POST"): finance(BAD_REQUEST),
    ("finance.payout_export", "POST"): finance(FORM_ERROR),  # no date: the list again, the error on the date
    ("finance.payout_file", "GET"): finance(GET_OK),
    ("finance.donation_profile", "GET"): finance(GET_OK),
    ("finance.donation_profile", "POST"): finance(FORM_ERROR),
    ("refunds.project_payments", "GET"): finance(GET_OK),
    ("refunds.refund", "GET"): finance(GET_OK),
    ("refunds.refund", "POST"): finance(FORM_ERROR),
    # --- JSON API: Bearer token only -------------------------------------------------------------------------
    ("api-docs.openapi_json", "GET"): everyone(GET_OK),
    ("api_projects.list_projects", "GET"): everyone(GET_OK),
    ("api_projects.get_project", "GET"): everyone(GET_OK),
    ("api_results.get_results", "GET"): everyone(ok(404)),  # not published yet
    ("api_me.get_me", "GET"): api(GET_OK),
    ("api_pledges.my_pledges", "GET"): api(GET_OK),
    ("api_receipts.my_receipts", "GET"): api(GET_OK),
    ("api_pledges.create_pledge", "POST"): api(ok(422)),  # no amount
    ("api_pledges.get_pledge", "GET"): api_own(GET_OK),
    ("api_pledges.confirm_pledge", "POST"): api_own(GET_OK),  # active already
    ("api_pledges.cancel_pledge", "DELETE"): api_own(GET_OK),
    ("api_receipts.receipt_pdf", "GET"): api_own(GET_OK, sees_all=True),
}
