"""The public side of campaigns: the list with filters, a campaign's page, its embeddable widget and the
district pages. Only public projects are shown; everything else is a 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for

from crowdfund import db, page_cache
from crowdfund.forms.campaigns import CATEGORY_LABELS, STATE_LABELS, CampaignFilterForm
from crowdfund.page_cache import cached_public
from crowdfund.security import frameable
from crowdfund.services import campaigns, matching
from crowdfund.services.campaigns import CampaignFilter, Sort

bp = Blueprint("campaigns", __name__)
bp.app_context_processor(page_cache.csrf_placeholder)


@bp.record_once
def _template_globals(state: Any) -> None:
    # Lazy strings: each label is translated once where it is shown, not a whole table per card.
    state.app.jinja_env.globals.update(category_labels=CATEGORY_LABELS, state_labels=STATE_LABELS)


@bp.get("/projects")
@cached_public
def index():
    session = db.session()
    form = CampaignFilterForm(formdata=request.args)
    form.set_districts([(d.slug, d.name) for d in campaigns.districts(session)])
    if not form.validate():
        return render_template("campaigns/index.html", form=form, result=None, now=_now(), args={}), 400
    result = campaigns.list_campaigns(session, _filter(form))
    return render_template("campaigns/index.html", form=form, result=result, now=_now(),
                           args=form.filter_args())


@bp.get("/projects/<slug>")
@cached_public
def detail(slug: str):
    campaign = campaigns.get_campaign(db.session(), slug) or abort(404)
    return render_template("campaigns/detail.html", c=campaign, p=campaign.project, now=_now(),
                           cover_url=_cover_url(campaign.project),
                           matches=matching.project_match_summary(db.session(), campaign.project.id))  # matchfunding


@bp.get("/projects/<slug>/widget")
@frameable
@cached_public
def widget(slug: str):
    campaign = campaigns.get_campaign(db.session(), slug, details=False) or abort(404)
    return render_template("campaigns/widget.html", c=campaign, p=campaign.project, now=_now())


@bp.get("/districts")
@cached_public
def districts():
    return render_template("campaigns/districts.html", rows=campaigns.district_overview(db.session()))


@bp.get("/districts/<slug>")
@cached_public
def district(slug: str):
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 10_000:
        abort(400)
    try:
        result = campaigns.list_campaigns(db.session(), CampaignFilter(district=slug, page=int(page)))
    except campaigns.UnknownDistrict:
        abort(404)
    return render_template("campaigns/district.html", result=result, district=result.district, now=_now(),
                           args={"slug": slug})


def _now() -> datetime:
    return datetime.now(UTC)


def _filter(form: CampaignFilterForm) -> CampaignFilter:
    return CampaignFilter(q=(form.q.data or "").strip(), district=form.district.data or "",
                          category=form.category.data or "", state=form.state.data or "",
                          sort=Sort(form.sort.data), page=form.page.data or 1)


def _cover_url(project: Any) -> str | None:
    """The cover image is served by the initiator side's `projects.cover` view, if that exists."""
    if not project.cover_image:
        return None
    if "projects.cover" in current_app.view_functions:  # the version changes with the image: cache-safe
        return url_for("projects.cover", slug=project.slug, v=project.cover_image[:8])
    return f"/projects/{project.slug}/cover"


def page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Return the page numbers to link: the first, the last and `radius` around `page`; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, page - radius), min(pages, page + radius) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - (window[-1] or 0) > 1:
            window.append(None)
        window.append(number)
    return window


@bp.app_template_global()
def campaign_page_window(page: int, pages: int) -> list[int | None]:
    return page_window(page, pages)
