from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from crowdfund.domain.roles import Role

ASSIGNABLE = [(r.value, r.value) for r in Role if r != Role.BACKER]


class RolesForm(FlaskForm):
    roles = SelectMultipleField(_l("Roles"), choices=ASSIGNABLE, widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())
