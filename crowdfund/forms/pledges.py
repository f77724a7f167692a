"""Forms of pledging: the pledge (amount in euros, reward, anonymity, message, payment method) and its change."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from crowdfund.formatting import euros
from crowdfund.forms.messages import attach_errors
from crowdfund.forms.projects import EuroField
from crowdfund.models.rewards import Reward
from crowdfund.services.pledges import MESSAGE_MAX_LENGTH

NO_REWARD = ""
# Service field names that the forms call differently.
RENAMES = {"amount_cents": "amount_eur", "reward_id": "reward", "payment_method_type": "payment_method"}
METHOD_LABELS = {"card": _l("Credit or debit card"), "sepa_debit": _l("SEPA direct debit")}
PROBLEMS = {
    "too_small": _l("The amount is below the minimum pledge."),
    "too_large": _l("The amount is above the maximum pledge."),
    "below_reward": _l("The amount is below the minimum of the chosen reward."),
    "sold_out": _l("This reward is sold out. Please choose another one."),
    "unknown": _l("Please choose one of the options."),
    "too_long": _l("This text is too long."),
}


class ChangePledgeForm(FlaskForm):
    amount_eur = EuroField(_l("Amount (EUR)"), validators=[InputRequired()],
                           description=_l("Charged only if the campaign reaches its threshold by the deadline."))
    reward = RadioField(_l("Reward"), default=NO_REWARD, validate_choice=False)
    anonymous = BooleanField(_l("Do not show my name on the campaign page"))
    message = TextAreaField(_l("Message to the team (optional)"), validators=[Length(max=MESSAGE_MAX_LENGTH)],
                            render_kw={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH})
    sold_out: frozenset[str] = frozenset()  # reward choices shown disabled

    def set_rewards(self, rewards: Sequence[Reward], currency: str, keep: int | None = None) -> None:
        """Offer every reward with its minimum and what is left; sold-out ones (but `keep`) are disabled."""
        self.reward.choices = [(NO_REWARD, str(_l("No reward, just support")))] + [  # type: ignore[assignment]
            (str(reward.id), reward_label(reward, currency)) for reward in rewards]
        # WTForms 3.2 cannot take per-choice render_kw for radio buttons: the template disables these.
        self.sold_out = frozenset(str(r.id) for r in rewards
                                  if r.quantity_left is not None and r.quantity_left <= 0 and r.id != keep)

    def reward_id(self) -> int | None:
        value = self.reward.data or NO_REWARD
        return int(value) if _is_id(value) else None

    def validate_reward(self, field: RadioField) -> None:
        if (field.data or NO_REWARD) != NO_REWARD and not _is_id(str(field.data)):
            raise ValidationError(str(PROBLEMS["unknown"]))

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show the service's codes on the fields they name."""
        attach_errors(self, {k: str(PROBLEMS.get(v, v)) for k, v in errors.items()}, RENAMES)


class PledgeForm(ChangePledgeForm):
    payment_method = RadioField(_l("Payment method"), default="card")

    def set_methods(self, types: Sequence[str]) -> None:
        self.payment_method.choices = [(t, METHOD_LABELS.get(t, t)) for t in types]  # type: ignore[assignment]


def _is_id(value: str) -> bool:
    """A row id as a form sends it: ASCII digits that fit the database's integer (not "²" or 10**20)."""
    return value.isascii() and value.isdigit() and int(value) < 2**31


def reward_label(reward: Reward, currency: str) -> str:
    """Name a reward with its minimum and the units left ("Postcard – from 10,00 € – 3 of 5 left")."""
    left = reward.quantity_left
    parts = [reward.title, str(_l("from %(amount)s", amount=euros(reward.min_amount_cents, currency)))]
    if left is not None:
        parts.append(str(_l("sold out")) if left <= 0 else str(_l("%(left)d of %(total)d left", left=left,
                                                                   total=reward.quantity_total or 0)))
    return " – ".join(parts)
