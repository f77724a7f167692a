from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from crowdfund.forms.projects import EuroField


class RefundForm(FlaskForm):
    """A refund of one paid pledge; `sequence` is the refund number the form was shown for."""

    amount = EuroField(_l("Amount to refund (EUR)"),
                       description=_l("Leave empty to refund everything that has not been refunded yet."))
    note = StringField(_l("Reason (for the ledger)"), validators=[Length(max=500)])
    sequence = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(min=1)])
