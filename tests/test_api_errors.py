"""The public API's bad arguments: one RiskCalcError with a one-line message, never a raw
AttributeError/KeyError/TypeError/ValueError or another package's exception (issue 26, item 12)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import riskcalc as rc
from riskcalc.exceptions import InvalidParameterError, MissingColumnError, RiskCalcError

#: Public functions whose first argument may be None by design.
NONE_IS_A_DEFAULT = {"load_scenarios": "None means the built-in scenarios"}
#: Keyword-only arguments a function requires, given so that the first argument is what fails.
REQUIRED_KEYWORDS = {"individual_risk": {"weights": "w"}}


def _public_functions():
    for name in sorted(rc.__all__):
        obj = getattr(rc, name)
        if inspect.isfunction(obj) and name not in NONE_IS_A_DEFAULT:
            yield name, obj


@pytest.mark.parametrize("name,func", list(_public_functions()))
def test_no_public_function_crashes_on_a_missing_table(name, func):
    """The class: every public function given None where its table goes says so in one line."""
    sig = inspect.signature(func)
    required = [
        p
        for p in sig.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    args = [None] + [["sex"]] * (len(required) - 1)
    with pytest.raises(RiskCalcError) as info:
        func(*args, **REQUIRED_KEYWORDS.get(name, {}))
    assert "\n" not in str(info.value) and str(info.value)


@pytest.fixture(scope="module")
def cohort():
    import synthetic

    return synthetic.generate_cohort(1_500, rng=1)


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda c: rc.tier_risk_table(c, tiers=(5,)),
            r"'tiers' parameter of tier_risk_table .* Got 5",
        ),
        (lambda c: rc.tier_risk_table(c, tiers=()), r"non-empty sequence of tier numbers"),
        (lambda c: rc.tier_risk_table(c, tiers="12"), r"non-empty sequence"),
        (lambda c: rc.what_if(c, tiers=(3,)), r"tier 3 holds aggregate tables"),
        (lambda c: rc.what_if(c, {"nope": "x"}), r"nope"),
        (lambda c: rc.what_if(c, {}), r"non-empty mapping"),
        (lambda c: rc.tier_risk_table(c, coarsening={"postcod": "district"}), r"postcod"),
        (lambda c: rc.risk_table(None), r"'extracts' parameter of risk_table"),
        (lambda c: rc.risk_table({}), r"non-empty unless 'aggregates' are given"),
        (lambda c: rc.html_report(None), r"'table' parameter of html_report must be a RiskTable"),
        (
            lambda c: rc.encode(c[["sex"]], ["sex"], weights=np.ones(len(c))),
            r"'weights' parameter of encode",
        ),
        (
            lambda c: rc.profile_columns(c, 5),
            r"'columns' parameter of profile_columns must be a list",
        ),
        (lambda c: rc.normalise(c, 5), r"'columns' parameter of normalise must be a list"),
        (lambda c: rc.normalise(c, []), r"'columns' parameter of normalise must name at least one"),
    ],
)
def test_bad_arguments_are_one_line(cohort, call, match):
    with pytest.raises((InvalidParameterError, MissingColumnError), match=match) as info:
        call(cohort)
    assert "\n" not in str(info.value)
