"""The admins' contest form: the seven windows are typed as Europe/Berlin local times and held as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from crowdfund.models.contests import Contest
from crowdfund.services.contests import WINDOWS, ContestData

BERLIN = ZoneInfo("Europe/Berlin")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class BerlinDateTimeField(DateTimeLocalField):
    """A datetime-local input read and shown in Europe/Berlin; `data` is an aware UTC datetime."""

    def __init__(self, label: object = None, validators: object = None, **kwargs: object) -> None:
        kwargs.setdefault("format", [LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(label, validators, **kwargs)  # type: ignore[arg-type]

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, datetime):
            # Local wall-clock time in Kassel; in the autumn's repeated hour the first (summer) one counts.
            try:
                self.data = self.data.replace(tzinfo=BERLIN).astimezone(UTC)
            except OverflowError:  # 0001-01-01 00:00 in Kassel is before the first UTC datetime
                self.data = None
                raise ValueError(self.gettext("Not a valid datetime value.")) from None

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.astimezone(BERLIN).strftime(LOCAL_FORMAT) if isinstance(self.data, datetime) else ""


def _window(label: object) -> BerlinDateTimeField:
    return BerlinDateTimeField(label, validators=[InputRequired()], description=_l("Local time in Kassel."))


class ContestForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=160)])
    slug = StringField(
        _l("Short name in addresses"), validators=[Length(max=80)],
        description=_l("Lower-case letters, digits and hyphens. Leave empty to derive it from the name."))
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)], render_kw={"rows": 4})
    submission_start = _window(_l("Submissions open"))
    submission_end = _window(_l("Submissions close"))
    review_end = _window(_l("Review ends"))
    funding_start = _window(_l("Crowdfunding starts"))
    funding_end = _window(_l("Crowdfunding ends"))
    jury_end = _window(_l("Jury scoring ends"))
    results_at = _window(_l("Results are published"))

    def contest_data(self) -> ContestData:
        windows = {name: self[name].data for name in WINDOWS}
        return ContestData(name=self.name.data or "", slug=self.slug.data or "",
                           description=self.description.data or "", **windows)


def contest_form_data(contest: Contest) -> dict[str, object]:
    """Return a saved contest as the form's initial data."""
    return {"name": contest.name, "slug": contest.slug, "description": contest.description,
            **{name: getattr(contest, name) for name in WINDOWS}}
