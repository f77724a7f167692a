"""The admins' matching pot form: euros typed as text become exact cents (Decimal, never float), the ratio
is a percentage (100 = 1:1), districts and categories are chosen from fixed lists."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.districts import KASSEL_DISTRICTS, slugify
from crowdfund.domain.matching import MAX_RATIO_PERCENT, SPONSOR_MAX_LENGTH
from crowdfund.formatting import euros
from crowdfund.forms.campaigns import CATEGORY_LABELS
from crowdfund.forms.messages import message
from crowdfund.forms.projects import EuroField
from crowdfund.models.contests import Contest
from crowdfund.models.matching import MatchingPot
from crowdfund.services.matching import PotData, PotInvalid

# Service field names that the form calls differently.
RENAMES = {"budget_cents": "budget_eur", "cap_per_pledge_cents": "cap_per_pledge_eur",
           "cap_per_backer_cents": "cap_per_backer_eur", "cap_per_project_cents": "cap_per_project_eur",
           "contest_id": "contest", "district_slugs": "districts"}
MESSAGES = {
    "ratio_out_of_range": _l("Enter a percentage from 1 to 1000 (100 means 1:1)."),
}
_CHOOSE_SEVERAL = _l("Hold Ctrl (⌘ on a Mac) to choose several. Choose none to admit every one.")


def _cap(label: object) -> EuroField:
    return EuroField(label, validators=[Optional()], description=_l("Leave empty for no cap."))


class PotForm(FlaskForm):
    sponsor_name = StringField(_l("Sponsor"), validators=[InputRequired(), Length(max=SPONSOR_MAX_LENGTH)],
                               description=_l("Shown on the campaign pages: “+ 50 € from the … pot”."))
    contest = SelectField(_l("Contest"), coerce=int)
    budget_eur = EuroField(_l("Budget (EUR)"), validators=[InputRequired()])
    ratio_percent = IntegerField(
        _l("Ratio (percent)"), default=100, validators=[InputRequired(), NumberRange(1, MAX_RATIO_PERCENT)],
        description=_l("100 means 1:1: each pledged euro is topped up with one euro; 50 with 50 cents."))
    cap_per_pledge_eur = _cap(_l("Cap per pledge (EUR)"))
    cap_per_backer_eur = _cap(_l("Cap per backer (EUR)"))
    cap_per_project_eur = _cap(_l("Cap per project (EUR)"))
    districts = SelectMultipleField(
        _l("Eligible districts"), description=_CHOOSE_SEVERAL, render_kw={"size": 8},
        choices=[(slugify(name), name) for name in KASSEL_DISTRICTS])
    categories = SelectMultipleField(
        _l("Eligible categories"), description=_CHOOSE_SEVERAL, render_kw={"size": len(CATEGORIES)},
        choices=[(key, CATEGORY_LABELS[key]) for key in CATEGORIES])
    counts_toward_threshold = BooleanField(_l("Matched money counts toward the funding threshold"))
    active = BooleanField(_l("Active: the pot tops up new pledges"), default=True)

    def set_contests(self, contests: list[Contest]) -> None:
        self.contest.choices = [(0, _l("Every contest")), *((c.id, c.name) for c in contests)]

    def pot_data(self) -> PotData:
        return PotData(
            sponsor_name=self.sponsor_name.data or "", budget_cents=self.budget_eur.data or 0,
            ratio_percent=self.ratio_percent.data or 0, contest_id=self.contest.data or None,
            cap_per_pledge_cents=self.cap_per_pledge_eur.data, cap_per_backer_cents=self.cap_per_backer_eur.data,
            cap_per_project_cents=self.cap_per_project_eur.data, district_slugs=tuple(self.districts.data or ()),
            categories=tuple(self.categories.data or ()),
            counts_toward_threshold=bool(self.counts_toward_threshold.data), active=bool(self.active.data))

    def attach(self, exc: PotInvalid) -> None:
        """Show the service's field errors on the form's fields."""
        for key, code in exc.errors.items():
            field = self[RENAMES.get(key, key)]
            if code == "budget_below_held":
                text = _l("The budget cannot be lower than the %(amount)s that matches already hold.",
                          amount=euros(exc.held_cents))
            else:
                text = MESSAGES.get(code) or message(code, self)
            field.errors = [*field.errors, str(text)]


def pot_form_data(pot: MatchingPot) -> dict[str, object]:
    """Return a saved pot as the form's initial data."""
    return {"sponsor_name": pot.sponsor_name, "contest": pot.contest_id or 0, "budget_eur": pot.budget_cents,
            "ratio_percent": pot.ratio_percent, "cap_per_pledge_eur": pot.cap_per_pledge_cents,
            "cap_per_backer_eur": pot.cap_per_backer_cents, "cap_per_project_eur": pot.cap_per_project_cents,
            "districts": list(pot.district_slugs or ()), "categories": list(pot.categories or ()),
            "counts_toward_threshold": pot.counts_toward_threshold, "active": pot.active}
