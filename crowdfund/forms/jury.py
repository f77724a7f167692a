"""The jury's forms: conflicts, scorecards (one field per criterion), discussion, and the admins' settings,
criteria, panel, phase, tie vote and decision. Scorecard and ranking forms are built per request."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from crowdfund.domain.jury import ConflictKind, PhaseAction
from crowdfund.domain.jury_awards import PrizeMode, RankingRule
from crowdfund.forms.messages import message
from crowdfund.forms.projects import EuroField, euros_to_cents
from crowdfund.models.jury import JuryConfig, JuryCriterion
from crowdfund.services.jury_settings import CriterionData, SettingsData

CONFLICT_LABELS = {
    ConflictKind.OWN_PROJECT: _l("Own project"), ConflictKind.COLLABORATOR: _l("Collaborator"),
    ConflictKind.INSTITUTIONAL: _l("Institutional"), ConflictKind.PERSONAL: _l("Personal"),
    ConflictKind.OTHER: _l("Other"),
}
PHASE_ACTION_LABELS = {
    PhaseAction.OPEN_SCORING: _l("Start scoring"), PhaseAction.OPEN_DISCUSSION: _l("Close scoring, start discussion"),
    PhaseAction.REOPEN_SCORING: _l("Reopen scoring"), PhaseAction.OPEN_DECISION: _l("Start the decision"),
    PhaseAction.PUBLISH: _l("Publish the results"),
}
RULE_LABELS = {RankingRule.WEIGHTED: _l("Weighted: jury score and crowd index"),
               RankingRule.PRESELECT: _l("The jury pre-selects the top N, the crowd decides")}
PRIZE_LABELS = {PrizeMode.PROPORTIONAL: _l("In proportion to the final score"),
                PrizeMode.FIXED: _l("Fixed amounts per rank")}


def _kind_field() -> SelectField:
    return SelectField(_l("Kind of conflict"), choices=[(k.value, label) for k, label in CONFLICT_LABELS.items()])


def _note_field() -> TextAreaField:
    return TextAreaField(_l("Note (optional)"), validators=[Length(max=2000)], render_kw={"rows": 2})


class ConflictForm(FlaskForm):
    project = SelectField(_l("Entry"), coerce=int)
    kind = _kind_field()
    note = _note_field()


class AdminConflictForm(FlaskForm):
    juror = SelectField(_l("Juror"), coerce=int)
    project = SelectField(_l("Entry"), coerce=int)
    kind = _kind_field()
    note = _note_field()


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your contribution to the discussion"), validators=[InputRequired(), Length(max=5000)],
                         render_kw={"rows": 3})


class PhaseForm(FlaskForm):
    action = SelectField(choices=[(a.value, label) for a, label in PHASE_ACTION_LABELS.items()])


class PanelForm(FlaskForm):
    user = SelectField(_l("Juror"), coerce=int)


def anchors_hint(criterion: JuryCriterion) -> str:
    """Describe a criterion's scale and anchors: "1–10 · 1 = weak · 10 = outstanding"."""
    anchors = sorted(criterion.anchors.items(), key=lambda kv: int(kv[0]))
    parts = [f"{criterion.scale_min}–{criterion.scale_max}", *(f"{k} = {v}" for k, v in anchors)]
    return " · ".join(parts)


class _ScorecardBase(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)], render_kw={"rows": 4})
    action = SelectField(choices=[("save", _l("Save draft")), ("submit", _l("Submit scorecard"))])

    def score_fields(self) -> list[Field]:
        return [field for field in self if field.name.startswith("score_")]

    def scores(self) -> dict[int, int | None]:
        return {int(field.name.removeprefix("score_")): field.data for field in self.score_fields()}


def scorecard_form(criteria: Sequence[JuryCriterion], data: dict[str, Any] | None = None) -> _ScorecardBase:
    """Build the scorecard form: one whole-number field per criterion, empty allowed for drafts."""

    class ScorecardForm(_ScorecardBase):
        pass

    for c in criteria:
        field = IntegerField(c.name, validators=[Optional(), NumberRange(min=c.scale_min, max=c.scale_max)],
                             description=anchors_hint(c),
                             render_kw={"min": c.scale_min, "max": c.scale_max, "inputmode": "numeric"})
        setattr(ScorecardForm, f"score_{c.id}", field)
    return ScorecardForm(data=data) if data is not None else ScorecardForm()


class SettingsForm(FlaskForm):
    ranking_rule = SelectField(_l("Final ranking"), choices=[(r.value, label) for r, label in RULE_LABELS.items()])
    jury_weight = StringField(_l("Weight of the jury score (0 to 1)"), validators=[InputRequired(), Length(max=20)],
                              description=_l("Weighted rule: 1 means the jury alone, 0 the crowd alone."))
    preselect_top_n = IntegerField(_l("Entries the jury pre-selects (N)"), validators=[InputRequired(),
                                                                                      NumberRange(min=1, max=1000)])
    prize_pot = EuroField(_l("Prize pot (EUR)"), validators=[InputRequired()])
    prize_places = IntegerField(_l("Prize places"), validators=[InputRequired(), NumberRange(min=0, max=1000)])
    prize_mode = SelectField(_l("Prize split"), choices=[(m.value, label) for m, label in PRIZE_LABELS.items()])
    prize_fixed = StringField(_l("Fixed prizes per rank (EUR)"), validators=[Length(max=500)],
                              description=_l("Separated by semicolons, first place first, e.g. 5000; 4000; 3000."))
    crowd_min_pledge = EuroField(_l("Smallest pledge that counts for the crowd index (EUR)"),
                                 validators=[InputRequired()])
    jurors_per_entry = IntegerField(_l("Jurors per entry"), validators=[Optional(), NumberRange(min=1, max=100)],
                                    description=_l("Leave empty: the whole panel scores every entry."))
    disagreement_points = IntegerField(_l("Flag entries whose spread exceeds (points of 100)"),
                                       validators=[InputRequired(), NumberRange(min=0, max=100)])

    def validate_prize_fixed(self, field: StringField) -> None:
        try:
            self.fixed_cents()
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def fixed_cents(self) -> tuple[int, ...]:
        parts = [p for p in (self.prize_fixed.data or "").split(";") if p.strip()]
        return tuple(euros_to_cents(p) or 0 for p in parts)

    def settings_data(self) -> SettingsData:
        return SettingsData(
            ranking_rule=self.ranking_rule.data, jury_weight=self.jury_weight.data or "",
            preselect_top_n=self.preselect_top_n.data or 1, prize_pot_cents=self.prize_pot.data or 0,
            prize_places=self.prize_places.data or 0, prize_mode=self.prize_mode.data,
            prize_fixed_cents=self.fixed_cents(), crowd_min_pledge_cents=self.crowd_min_pledge.data or 0,
            jurors_per_entry=self.jurors_per_entry.data, disagreement_points=self.disagreement_points.data or 0)


def settings_form_data(config: JuryConfig) -> dict[str, Any]:
    """Return the saved settings as the form's initial data."""
    fixed = "; ".join(f"{c // 100}" if c % 100 == 0 else f"{c / 100:.2f}" for c in config.prize_fixed_cents)
    return {"ranking_rule": config.ranking_rule, "jury_weight": config.jury_weight,
            "preselect_top_n": config.preselect_top_n, "prize_pot": config.prize_pot_cents,
            "prize_places": config.prize_places, "prize_mode": config.prize_mode, "prize_fixed": fixed,
            "crowd_min_pledge": config.crowd_min_pledge_cents, "jurors_per_entry": config.jurors_per_entry,
            "disagreement_points": config.disagreement_points}


class CriterionForm(FlaskForm):
    name = StringField(_l("Criterion"), validators=[InputRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)], render_kw={"rows": 2})
    weight = StringField(_l("Weight"), validators=[InputRequired(), Length(max=20)], default="1",
                         description=_l("A positive number such as 2 or 1.5; weights are scaled to sum 1."))
    scale_min = IntegerField(_l("Lowest score"), validators=[InputRequired(), NumberRange(-1000, 1000)], default=1)
    scale_max = IntegerField(_l("Highest score"), validators=[InputRequired(), NumberRange(-1000, 1000)], default=10)
    anchors = TextAreaField(_l("Labelled anchors"), validators=[Length(max=2000)], render_kw={"rows": 3},
                            description=_l("One per line, score and label: 1: weak"))

    def criterion_data(self) -> CriterionData:
        anchors = {}
        for line in (self.anchors.data or "").splitlines():
            score, _sep, label = line.partition(":")
            if score.strip() and label.strip():
                anchors[score.strip()] = label.strip()
            elif line.strip():  # not "score: label": kept so that it is refused, not silently dropped
                anchors[line.strip()] = ""
        return CriterionData(self.name.data or "", self.description.data or "", self.weight.data or "",
                             self.scale_min.data or 0, self.scale_max.data or 0, anchors)


def criterion_form_data(criterion: JuryCriterion) -> dict[str, Any]:
    """Return a saved criterion as the form's initial data."""
    anchors = "\n".join(f"{k}: {v}" for k, v in sorted(criterion.anchors.items(), key=lambda kv: int(kv[0])))
    return {"name": criterion.name, "description": criterion.description, "weight": criterion.weight,
            "scale_min": criterion.scale_min, "scale_max": criterion.scale_max, "anchors": anchors}


class _RankingBase(FlaskForm):
    def order(self) -> list[int]:
        """Return the entry ids sorted by the positions typed (ties: the order shown)."""
        fields = [f for f in self if f.name.startswith("place_")]
        ranked = sorted(enumerate(fields), key=lambda pair: (pair[1].data or 10**6, pair[0]))
        return [int(f.name.removeprefix("place_")) for _i, f in ranked]


def ranking_form(entries: Iterable[tuple[int, str, int]], *, with_reason: bool,
                 formdata: bool = True) -> _RankingBase:
    """Build a form with one position field per entry ((id, title, position shown)), and a reason."""

    class RankingForm(_RankingBase):
        pass

    data: dict[str, Any] = {}
    for entry_id, title, position in entries:
        setattr(RankingForm, f"place_{entry_id}", IntegerField(title, validators=[InputRequired(),
                                                                                  NumberRange(min=1, max=10**5)]))
        data[f"place_{entry_id}"] = position
    if with_reason:
        RankingForm.reason = TextAreaField(  # type: ignore[attr-defined]
            _l("Reason"), validators=[Length(max=5000)], render_kw={"rows": 3},
            description=_l("Required when the jury's ranking differs from the computed one."))
    return RankingForm() if formdata else RankingForm(formdata=None, data=data)


# Words for the stable codes of the jury services (JuryError.code and field errors).
MESSAGES = {
    "wrong_phase": _l("This is not possible in the jury's current phase."),
    "not_a_juror": _l("Only users with the juror role can sit on the jury."),
    "not_found": _l("This entry or juror does not belong to the contest."),
    "no_criteria": _l("Add at least one criterion before scoring starts."),
    "no_panel": _l("Seat at least one juror before scoring starts."),
    "no_decision": _l("Record the jury's decision before publishing."),
    "before_deadline": _l("The crowd index is frozen only once crowdfunding has ended."),
    "crowd_not_frozen": _l("The decision can be recorded once crowdfunding has ended and the crowd index is frozen."),
    "submit_first": _l("Submit your own scorecard first."),
    "invalid": _l("Please check your input."),
    "share_out_of_range": _l("Enter a number from 0 to 1, such as 0.6."),
    "prizes_count": _l("Enter one fixed prize per prize place."),
    "prizes_sum": _l("The fixed prizes must add up to the prize pot exactly."),
    "at_least_one": _l("Enter at least 1, or leave the field empty."),
    "weight_positive": _l("Enter a positive number, such as 2 or 1.5."),
    "scale_order": _l("The highest score must be above the lowest."),
    "anchor_outside_scale": _l("Every anchor needs a whole-number score within the scale."),
    "missing": _l("Please give a score."),
    "out_of_range": _l("The score lies outside the scale."),
    "not_a_ranking": _l("Give every entry a position."),
    "reason_required": _l("Give a reason: the ranking differs from the computed one."),
}


def error_message(code: str) -> str:
    """Return the words for a jury error code (falling back to the shared messages)."""
    return str(MESSAGES[code]) if code in MESSAGES else message(code)


def attach_jury_errors(form: FlaskForm, errors: dict[str, str], prefix: str = "") -> None:
    """Show service errors on the form's fields (`prefix` + key), the rest above the form."""
    for key, code in errors.items():
        name = f"{prefix}{key}"
        if name in form:
            form[name].errors = [*form[name].errors, error_message(code)]
        else:
            form.form_errors.append(error_message(code))
