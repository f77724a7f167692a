"""Forms of the pitch workflow: the pitch with its team, rewards, stock, updates and the admins' review."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FieldList,
    Form,
    FormField,
    IntegerField,
    MonthField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.money import AmountError, AmountErrorCode, parse_euros
from crowdfund.domain.projects import ProjectAction, ProjectState
from crowdfund.models.projects import Project
from crowdfund.models.rewards import Reward
from crowdfund.services.projects import PITCH_MAX_LENGTH, TITLE_MAX_LENGTH, ProjectData, TeamMemberData
from crowdfund.services.rewards import RewardData

BERLIN = ZoneInfo("Europe/Berlin")
EMPTY_TEAM_ROWS = 2
# Service field names that the forms call differently.
RENAMES = {"threshold_cents": "threshold_eur", "goal_cents": "goal_eur", "district_id": "district",
           "reason": "message", "min_amount_cents": "min_amount_eur"}
CATEGORY_LABELS = {
    "digital": _l("Digital"), "mobility": _l("Mobility"), "environment": _l("Environment"),
    "neighbourhood": _l("Neighbourhood"), "culture": _l("Culture"), "education": _l("Education"),
    "health": _l("Health"),
}
STATE_LABELS = {
    ProjectState.DRAFT: _l("Draft"), ProjectState.SUBMITTED: _l("Submitted for review"),
    ProjectState.CHANGES_REQUESTED: _l("Changes requested"), ProjectState.APPROVED: _l("Approved"),
    ProjectState.LIVE: _l("Funding open"), ProjectState.ENDED: _l("Funding ended"),
    ProjectState.FUNDED: _l("Funded"), ProjectState.NOT_FUNDED: _l("Not funded"),
    ProjectState.REJECTED: _l("Rejected"), ProjectState.WITHDRAWN: _l("Withdrawn"),
}


AMOUNT_MESSAGES = {
    AmountErrorCode.AMBIGUOUS: _l("Is that a thousands separator? Write 2500 or 2500,00 to be unambiguous."),
    AmountErrorCode.TOO_MANY_DECIMALS: _l("Use at most two decimal places."),
    AmountErrorCode.NEGATIVE: _l("The amount cannot be negative."),
    AmountErrorCode.TOO_LARGE: _l("The amount is too large."),
    AmountErrorCode.NOT_A_NUMBER: _l("Enter an amount in euros, such as 2500 or 2500,50."),
}


def euros_to_cents(text: str) -> int | None:
    """Read a typed euro amount as integer cents, exactly (None for an empty field).

    Ambiguous input such as "2.500" is refused with a message rather than guessed."""
    try:
        return parse_euros(text)
    except AmountError as error:
        raise ValueError(AMOUNT_MESSAGES[error.code]) from None


def cents_to_text(cents: int) -> str:
    """Show cents as the euro amount a person would type: "2500" or "2500,50" ("2500.50" in English)."""
    if cents % 100 == 0:
        return str(cents // 100)
    separator = "," if str(get_locale() or "de").startswith("de") else "."
    return f"{cents // 100}{separator}{cents % 100:02d}"


class EuroField(Field):
    """A euro amount typed as text; `data` holds integer cents. What was typed is shown back unchanged."""

    widget = TextInput()

    def __init__(self, label: object = None, validators: object = None, **kwargs: object) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)  # type: ignore[arg-type]

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            self.data = None
            self.data = euros_to_cents(valuelist[0])

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return cents_to_text(self.data) if isinstance(self.data, int) else ""


class TeamMemberForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    role = StringField(_l("Role in the team"), validators=[Length(max=120)])

    def validate_name(self, field: StringField) -> None:
        if (self.role.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Please enter the name, or clear the role."))


class ProjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=TITLE_MAX_LENGTH)])
    pitch = TextAreaField(_l("Short pitch"), validators=[InputRequired(), Length(max=PITCH_MAX_LENGTH)],
                          description=_l("At most 300 characters. Shown on the project cards."),
                          render_kw={"maxlength": PITCH_MAX_LENGTH, "rows": 3})
    description = TextAreaField(
        _l("Description"), render_kw={"rows": 14},
        description=_l("Markdown: ## heading, **bold**, *italic*, - list, [link](https://…). Needed to submit."))
    district = SelectField(_l("District"), coerce=int)
    category = SelectField(_l("Category"))
    threshold_eur = EuroField(_l("Funding threshold (EUR)"), validators=[InputRequired()],
                              description=_l("All or nothing: below this amount no backer pays anything."))
    goal_eur = EuroField(_l("Funding goal (EUR, optional)"), validators=[Optional()],
                         description=_l("A higher target, if more money would do more."))
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    recipient_name = StringField(_l("Recipient of the money"), validators=[Length(max=160)],
                                 description=_l("The person or organisation that receives the payout."))
    recipient_address = TextAreaField(_l("Recipient's address"), validators=[Length(max=1000)],
                                      render_kw={"rows": 3})
    recipient_tax_privileged = BooleanField(_l("The recipient is tax-privileged (may issue donation receipts)"))
    team = FieldList(FormField(TeamMemberForm), min_entries=3, max_entries=20)
    cover = FileField(_l("Cover image"), description=_l("JPEG, PNG or WebP, at most 5 MB."),
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})

    def set_choices(self, districts: list[tuple[int, str]]) -> None:
        self.district.choices = [(0, _l("Choose a district")), *districts]
        self.category.choices = [("", _l("Choose a category"))] + [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]

    def project_data(self) -> ProjectData:
        team = tuple(TeamMemberData(e.form.data["name"] or "", e.form.data["role"] or "") for e in self.team)
        return ProjectData(
            title=self.title.data or "", pitch=self.pitch.data or "", description=self.description.data or "",
            district_id=self.district.data or 0, category=self.category.data or "",
            threshold_cents=self.threshold_eur.data or 0, goal_cents=self.goal_eur.data,
            deadline_day=self.deadline.data, recipient_name=self.recipient_name.data or "",
            recipient_address=self.recipient_address.data or "",
            recipient_tax_privileged=bool(self.recipient_tax_privileged.data), team=team,
            cover=self.cover.data.read() if self.cover.data else None)


def project_form_data(project: Project) -> dict[str, object]:
    """Return a saved project as the form's initial data, with a few empty team rows to fill in."""
    team = [{"name": m.name, "role": m.role} for m in project.team] + [{}] * EMPTY_TEAM_ROWS
    return {
        "title": project.title, "pitch": project.pitch, "description": project.description,
        "district": project.district_id, "category": project.category, "threshold_eur": project.threshold_cents,
        "goal_eur": project.goal_cents, "recipient_name": project.recipient_name,
        "deadline": project.deadline.astimezone(BERLIN).date() if project.deadline else None,
        "recipient_address": project.recipient_address, "recipient_tax_privileged": project.recipient_tax_privileged,
        "team": team,
    }


class RewardForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)], render_kw={"rows": 4})
    min_amount_eur = EuroField(_l("Minimum pledge (EUR)"), validators=[InputRequired()])
    quantity_total = IntegerField(_l("Number available (optional)"), validators=[Optional(), NumberRange(min=1)],
                                  description=_l("Leave empty for an unlimited number."))
    delivery_estimate = MonthField(_l("Estimated delivery (month)"), validators=[Optional()])

    def reward_data(self) -> RewardData:
        month = self.delivery_estimate.data
        return RewardData(title=self.title.data or "", description=self.description.data or "",
                          min_amount_cents=self.min_amount_eur.data or 0, quantity_total=self.quantity_total.data,
                          delivery_estimate=month.strftime("%Y-%m") if month else "")


def reward_form_data(reward: Reward) -> dict[str, object]:
    """Return a saved reward as the form's initial data."""
    month = date.fromisoformat(reward.delivery_estimate + "-01") if reward.delivery_estimate else None
    return {"title": reward.title, "description": reward.description, "min_amount_eur": reward.min_amount_cents,
            "quantity_total": reward.quantity_total, "delivery_estimate": month}


class StockForm(FlaskForm):
    quantity_total = IntegerField(_l("Number available in all"), validators=[Optional(), NumberRange(min=0)],
                                  description=_l("Leave empty for an unlimited number."))


class UpdateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=160)])
    body = TextAreaField(_l("Text"), validators=[InputRequired(), Length(max=20_000)], render_kw={"rows": 8},
                         description=_l("Markdown: ## heading, **bold**, *italic*, - list, [link](https://…)."))


ACTION_LABELS = {
    ProjectAction.SUBMIT: _l("Submit for review"),
    ProjectAction.WITHDRAW: _l("Withdraw"),
    ProjectAction.APPROVE: _l("Approve"),
    ProjectAction.REQUEST_CHANGES: _l("Request changes"),
    ProjectAction.REJECT: _l("Reject"),
    ProjectAction.PUBLISH: _l("Publish now"),
}


class ReviewForm(FlaskForm):
    """One form for every review decision: the clicked button's value is the action."""

    action = SelectField(choices=[(a.value, ACTION_LABELS[a]) for a in (
        ProjectAction.APPROVE, ProjectAction.REQUEST_CHANGES, ProjectAction.REJECT, ProjectAction.PUBLISH)])
    message = TextAreaField(_l("Message to the initiator"), validators=[Length(max=5000)], render_kw={"rows": 5},
                            description=_l("Required when you request changes or reject. The initiator is mailed it."))


class ReviewFilterForm(FlaskForm):
    """The review queue's filters, sent by GET: no CSRF token needed."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), default=ProjectState.SUBMITTED.value)
    district = SelectField(_l("District"), coerce=int, default=0)
    category = SelectField(_l("Category"), default="")

    def set_choices(self, districts: list[tuple[int, str]]) -> None:
        self.state.choices = [("", _l("All states"))] + [(s.value, label) for s, label in STATE_LABELS.items()]
        self.district.choices = [(0, _l("All districts")), *districts]
        self.category.choices = [("", _l("All categories"))] + [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]
