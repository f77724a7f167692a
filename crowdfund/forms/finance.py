"""Forms of the finance area: the dashboard and export filters, payouts, and the backer's receipt address."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

KASSEL = ZoneInfo("Europe/Berlin")
PROJECT_STATES = ("", "live", "ended", "funded", "not_funded")


def plausible_day(form: FlaskForm, field: DateField) -> None:
    """Days whose midnight in Kassel and the day after exist as UTC datetimes (0001-01-01, 9999-12-31 do not)."""
    if field.data is not None and not date(1900, 1, 1) <= field.data <= date(9998, 12, 31):
        raise ValidationError(_l("Please choose a day between the years 1900 and 9998."))


class FinanceFilterForm(FlaskForm):
    """Filters sent as query parameters (GET; no CSRF token needed, nothing changes)."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional(), plausible_day])
    end = DateField(_l("To"), validators=[Optional(), plausible_day])
    project = IntegerField(_l("Project number"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    state = SelectField(_l("Project status"), choices=[(s, s or "–") for s in PROJECT_STATES], default="",
                        validators=[Optional()])


class PayoutRequestForm(FlaskForm):
    recipient_name = StringField(_l("Account holder"), validators=[DataRequired(), Length(max=160)])
    iban = StringField(_l("IBAN"), validators=[DataRequired(), Length(max=42)])
    bic = StringField(_l("BIC (optional)"), validators=[Optional(), Length(max=11)])


class PayoutApproveForm(FlaskForm):
    """Approval of the amount the approver saw (refused if the project's balance changed meanwhile)."""

    expected_cents = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(min=1)])


def execution_day(form: FlaskForm, field: DateField) -> None:
    """A SEPA credit transfer is executed today or on a later banking day, and banks take orders for at most
    about a year ahead: a day in the past or further out than a year is refused on the field."""
    if field.data is None:
        return
    today = datetime.now(KASSEL).date()
    if field.data < today:
        raise ValidationError(_l("The execution date cannot be in the past."))
    if field.data > today + timedelta(days=365):
        raise ValidationError(_l("Please choose an execution date within the next year."))


class SepaExportForm(FlaskForm):
    execution_date = DateField(_l("Execution date"), validators=[DataRequired(), execution_day])


class ReceiptAddressForm(FlaskForm):
    name = StringField(_l("Name on receipts"), validators=[DataRequired(), Length(max=160)])
    address = TextAreaField(_l("Postal address"), validators=[DataRequired(), Length(max=500)],
                            description=_l("Street and number, postcode and town, one per line."))


class DonationProfileForm(FlaskForm):
    """The tax-privileged recipient's facts for the official donation receipt form (BMF template)."""

    purpose = TextAreaField(_l("Purpose (continues “Wir sind wegen Förderung …”)"),
                            validators=[DataRequired(), Length(max=500)])
    tax_office = StringField(_l("Tax office"), validators=[DataRequired(), Length(max=120)])
    tax_number = StringField(_l("Tax number"), validators=[DataRequired(), Length(max=40)])
    notice_date = DateField(_l("Date of the notice"), validators=[DataRequired()])
    notice_kind = SelectField(_l("Kind of notice"), choices=[
        ("exemption_notice", _l("Exemption notice (Freistellungsbescheid)")),
        ("assessment_60a", _l("Assessment under § 60a AO"))])
    assessment_period = StringField(_l("Assessment period (exemption notice only)"),
                                    validators=[Optional(), Length(max=160)])
    place = StringField(_l("Place of signature"), validators=[Optional(), Length(max=80)])
    signatory = StringField(_l("Signatory"), validators=[Optional(), Length(max=160)])
