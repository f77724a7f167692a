"""Words for the stable error codes the services raise, and attaching them to the form's fields."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

MESSAGES = {
    "required": _l("This field is required."),
    "too_long": _l("This text is too long."),
    "unknown": _l("Please choose one of the options."),
    "taken": _l("This is already in use. Please choose another one."),
    "invalid_slug": _l("Use only lower-case letters, digits and hyphens."),
    "threshold_too_low": _l("The funding threshold must be at least 1 euro."),
    "amount_too_low": _l("The amount must be at least 1 euro."),
    "amount_too_high": _l("This amount is too high."),
    "goal_below_threshold": _l("The funding goal cannot be lower than the threshold."),
    "outside_window": _l("The deadline must lie within the contest's funding phase."),
    "passed": _l("The deadline has already passed."),
    "name_missing": _l("Every team member needs a name."),
    "quantity_too_low": _l("Enter at least 1, or leave the field empty for an unlimited number."),
    "quantity_too_high": _l("This number is too high."),
    "below_claimed": _l("The number cannot be lower than the number already claimed by backers."),
    "invalid_month": _l("Enter a month such as 2027-09."),
    # Cover image (crowdfund.images.RejectCode)
    "empty": _l("The file is empty."),
    "too_large": _l("The image file is too large: at most 5 MB."),
    "not_an_image": _l("The file is not a readable image."),
    "unsupported_format": _l("Please upload a JPEG, PNG or WebP image."),
    "too_many_pixels": _l("The image has too many pixels."),
}


def message(code: str, form: FlaskForm | None = None) -> str:
    """Return the words for `code`; "after:<field>" and "not_before:<field>" name the other field."""
    kind, _, other = code.partition(":")
    if other and form is not None and other in form:
        label = form[other].label.text
        if kind == "after":
            return str(_l("This must be later than “%(field)s”.", field=label))
        return str(_l("This cannot be earlier than “%(field)s”.", field=label))
    return str(MESSAGES.get(code, code))


def attach_errors(form: FlaskForm, errors: Mapping[str, str], renames: Mapping[str, str] | None = None) -> None:
    """Show the service's field errors on the form's fields (`renames` maps service names to form names)."""
    for key, code in errors.items():
        name = (renames or {}).get(key, key)
        text = message(code, form)
        if name in form:
            field = form[name]
            field.errors = [*field.errors, text]
        else:
            form.form_errors.append(text)
