"""The public list's filter form: a GET form without CSRF token (it changes nothing)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, SelectField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.projects import ProjectState
from crowdfund.services.campaigns import Sort

Q_MAX_LENGTH = 100
MAX_PAGE = 10_000

# The same texts as the labels in templates/_format.html, so they share one translation.
CATEGORY_LABELS = {
    "digital": _l("Digital"), "mobility": _l("Mobility"), "environment": _l("Environment"),
    "neighbourhood": _l("Neighbourhood"), "culture": _l("Culture"), "education": _l("Education"),
    "health": _l("Health"),
}
STATE_LABELS = {
    ProjectState.LIVE: _l("Funding open"), ProjectState.ENDED: _l("Funding ended"),
    ProjectState.FUNDED: _l("Funded"), ProjectState.NOT_FUNDED: _l("Not funded"),
}
SORT_LABELS = {
    Sort.NEWEST: _l("Newest first"), Sort.ENDING_SOON: _l("Ending soon"),
    Sort.MOST_BACKERS: _l("Most backers"), Sort.PERCENT_FUNDED: _l("Highest share of threshold funded"),
}


class ChoiceField(SelectField):
    """A select that names what to pick when the submitted value is not one of its options."""

    def __init__(self, label: Any, invalid_message: Any, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form: Any) -> None:
        if self.data not in {value for value, _label in self.choices or ()}:
            raise ValidationError(self.invalid_message)


class CampaignFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search in titles and pitches"), validators=[
        Optional(), Length(max=Q_MAX_LENGTH, message=_l("Use at most %(max)d characters."))])
    district = ChoiceField(_l("District"), _l("Choose a district from the list."), default="")
    category = ChoiceField(_l("Category"), _l("Choose a category from the list."), default="", choices=[
        ("", _l("All categories")), *((key, CATEGORY_LABELS.get(key, key)) for key in CATEGORIES)])
    state = ChoiceField(_l("Status"), _l("Choose a status from the list."), default="", choices=[
        ("", _l("All public projects")), *((str(state), label) for state, label in STATE_LABELS.items())])
    sort = ChoiceField(_l("Sort by"), _l("Choose an order from the list."), default=Sort.NEWEST.value,
                       choices=[(str(sort), label) for sort, label in SORT_LABELS.items()])
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(
        min=1, max=MAX_PAGE, message=_l("Use a page number from %(min)d to %(max)d."))])

    def set_districts(self, districts: list[tuple[str, str]]) -> None:
        """Offer these (slug, name) pairs, after "All districts"."""
        self.district.choices = [("", _l("All districts")), *districts]

    def filter_args(self) -> dict[str, str]:
        """Return the chosen filters that differ from the defaults, for links that keep them."""
        values = {"q": (self.q.data or "").strip(), "district": self.district.data, "category": self.category.data,
                  "state": self.state.data, "sort": self.sort.data}
        return {k: v for k, v in values.items() if v and not (k == "sort" and v == Sort.NEWEST.value)}
