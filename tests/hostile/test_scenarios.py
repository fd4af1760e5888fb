"""Scenarios that validated but hung, crashed or answered wrongly: each is refused by the schema, in one line.

Every case is ``scenarios/tutorial.toml`` with one change, as a careless or hostile user would make it;
``validate`` must refuse it (exit 2, one line naming the field), so ``run`` never starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .helpers import assert_one_line, cli, tutorial_changed, tutorial_with

MAKER_GRADUATION = (
    'graduation = { dist = "weibull", shape = 1.5, scale = 1.5 }\nmax_stay_years = 2\n'
    "on_graduation = { incubator = 0.6, market = 0.4 }"
)
QUALITY = 'quality = { dist = "normal", mean = 0.0, sd = 1.0 }'
POLICY_AFTER = "rate_per_year = 40\n"

CASES = [
    # 1. zero-time routing loops
    (
        "zero_time_self_loop",
        MAKER_GRADUATION,
        'graduation = { dist = "fixed", value = 0 }\nmax_stay_years = 2\non_graduation = { maker_space = 1.0 }',
        "stages.maker_space.on_graduation: routing loop maker_space -> maker_space takes no time",
    ),
    (
        "zero_time_two_stage_loop",
        [
            (MAKER_GRADUATION, MAKER_GRADUATION.replace("incubator = 0.6, market = 0.4", "incubator = 1.0")),
            ("max_stay_years = 4", 'max_stay_years = 4\nadmission = { on_full = "skip", fallback = "maker_space" }'),
            (
                'admission = { on_full = "queue", queue_limit = 20, patience = { dist = "exponential", rate = 2.0 }, '
                "screening = { threshold = -1.0, noise_sd = 0.5 } }\n",
                "",
            ),
            (
                'admission = { on_full = "queue", queue_limit = 30, patience = { dist = "exponential", rate = 4.0 } }',
                'admission = { on_full = "queue", queue_limit = 30, fallback = "incubator" }',
            ),
        ],
        None,
        "routing loop",
    ),
    (
        "age_clock_loop_past_support",
        MAKER_GRADUATION,
        'graduation = { dist = "fixed", value = 1 }\ngraduation_clock = "age"\nmax_stay_years = 2\n'
        "on_graduation = { maker_space = 1.0 }",
        "routing loop maker_space -> maker_space takes no time",
    ),
    (
        "near_zero_time_loop",
        MAKER_GRADUATION,
        'graduation = { dist = "exponential", rate = 1e12 }\nmax_stay_years = 2\non_graduation = { maker_space = 1.0 }',
        "(under horizon / 1,000,000)",
    ),
    (
        "fallback_cycle",
        [
            (
                'admission = { on_full = "skip", fallback = "market" }',
                'admission = { on_full = "skip", fallback = "accelerator" }',
            ),
            ('admission = { on_full = "block" }', 'admission = { on_full = "skip", fallback = "industrial_park" }'),
        ],
        None,
        "routing loop accelerator -> industrial_park -> accelerator takes no time",
    ),
    # 2. NaN and infinities
    (
        "nan_quality_on_failure",
        "quality_on_failure = 0.3",
        "quality_on_failure = nan",
        "firms.quality_on_failure: must be a finite number",
    ),
    (
        "nan_quality_mean",
        QUALITY,
        'quality = { dist = "normal", mean = nan, sd = 1.0 }',
        "firms.quality.mean: must be a finite number",
    ),
    ("nan_threshold", "threshold = -1.0", "threshold = nan", "screening.threshold: must be a finite number"),
    ("inf_rate", "rate_per_year = 40", "rate_per_year = inf", "arrivals[1].rate_per_year: must be a finite number"),
    (
        "inf_max_stay",
        "max_stay_years = 2",
        "max_stay_years = inf",
        "stages.maker_space.max_stay_years: must be a finite number",
    ),
    (
        "nan_route",
        "on_timeout = { market = 1.0 }",
        "on_timeout = { market = nan }",
        "on_timeout.market: must be a finite number",
    ),
    (
        "nan_uniform_age",
        "low = 0.0, high = 1.0",
        "low = nan, high = 1.0",
        "arrivals[0].age_years.low: must be a finite number",
    ),
    # 6. parameters whose sampling overflows
    (
        "quality_effect_overflow",
        "quality_on_failure = 0.3",
        "quality_on_failure = 1e6",
        "firms.quality_on_failure: exp(1e+06 x quality) overflows",
    ),
    (
        "weibull_tiny_shape",
        'failure = { dist = "weibull", shape = 0.8, scale = 6.0 }',
        'failure = { dist = "weibull", shape = 1e-300, scale = 6.0 }',
        "stages.incubator.failure: draws overflow",
    ),
    (
        "lognormal_huge",
        'graduation = { dist = "lognormal", mu = 0.5, sigma = 0.5 }',
        'graduation = { dist = "lognormal", mu = 800, sigma = 1000 }',
        "stages.accelerator.graduation: draws overflow",
    ),
    (
        "capacity_beyond_int64",
        "carriers = { count = 1, capacity = 20 }",
        "carriers = { count = 1, capacity = 99999999999999999999 }",
        "stages.accelerator.carriers.capacity: must be <= 1000000000",
    ),
    (
        "capacity_draws_overflow",
        "carriers = { count = 1, capacity = 20 }",
        'carriers = { count = 1, capacity = { dist = "lognormal", mu = 30, sigma = 1 } }',
        "stages.accelerator.carriers.capacity: draws reach",
    ),
    (
        "quality_sd_huge",
        QUALITY,
        'quality = { dist = "normal", mean = 0.0, sd = 1e300 }',
        "firms.quality: draws overflow",
    ),
    (
        "policy_cost_huge",
        POLICY_AFTER,
        POLICY_AFTER
        + '\n[[policies]]\ntype = "hazard_multiplier"\nhazard = "failure"\nfactor = 0.9\ncost_per_year_yuan = 1e308\n',
        "policies[0].cost_per_year_yuan: must be <= 1e+15",
    ),
    (
        "policy_factor_huge",
        POLICY_AFTER,
        POLICY_AFTER + '\n[[policies]]\ntype = "hazard_multiplier"\nhazard = "failure"\nfactor = 1e300\n',
        "policies[0].factor: must be <= 1e+06",
    ),
    # 8. wrong types in decimal fields
    ("bool_horizon", "horizon_years = 8", "horizon_years = true", "calendar.horizon_years: must be a number, got True"),
    (
        "string_rate",
        "rate_per_year = 40",
        'rate_per_year = "0.35"',
        "arrivals[1].rate_per_year: must be a number, got '0.35'",
    ),
    (
        "string_dist_parameter",
        'failure = { dist = "exponential", rate = 0.35 }',
        'failure = { dist = "exponential", rate = "0.35" }',
        "stages.maker_space.failure.rate: must be a number",
    ),
    ("bool_share", "software = 0.5", "software = true", "firms.sectors.software: must be a number"),
    # 9. smaller
    (
        "negative_ages",
        'age_years = { dist = "uniform", low = 0.0, high = 1.0 }',
        'age_years = { dist = "uniform", low = -5, high = -1 }',
        "arrivals[0].age_years: a duration must be >= 0, got low = -5",
    ),
    (
        "share_sum_close_to_one",
        "manufacturing = 0.3 }",
        "manufacturing = 0.2999999 }",
        "firms.sectors: shares must sum to 1, got 0.9999999",
    ),
]


@pytest.mark.parametrize(("old", "new", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_scenario_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: Any, new: str | None, want: str
) -> None:
    path = tutorial_with(tmp_path, old, new) if isinstance(old, str) else tutorial_changed(tmp_path, old)
    code, out, err = cli(capsys, "validate", str(path))
    assert code == 2, f"exit {code}: {out!r} {err!r}"
    assert_one_line(err, want)


def test_integer_decimals_still_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Strict decimals take whole numbers (``horizon_years = 8``, ``rate = 1``): only booleans and text are refused."""
    path = tutorial_with(
        tmp_path, 'failure = { dist = "exponential", rate = 0.35 }', 'failure = { dist = "exponential", rate = 1 }'
    )
    assert cli(capsys, "validate", str(path))[0] == 0


def test_a_slow_loop_is_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A loop with a real stay on it is a legitimate model (firms going round a few times), not a hang."""
    path = tutorial_with(
        tmp_path,
        MAKER_GRADUATION,
        'graduation = { dist = "fixed", value = 0.5 }\nmax_stay_years = 2\n'
        "on_graduation = { maker_space = 0.5, incubator = 0.5 }",
    )
    code, _, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0, err


def test_multi_file_validate_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad file does not stop ``validate`` from checking the next ones."""
    bad = tutorial_with(tmp_path, "quality_on_failure = 0.3", "quality_on_failure = nan", "bad.toml")
    good = tutorial_with(tmp_path, "quality_on_failure = 0.3", "quality_on_failure = 0.2", "good.toml")
    code, out, err = cli(capsys, "validate", str(bad), str(good))
    assert code == 2
    assert f"{good}: ok" in out
    assert_one_line(err, "must be a finite number")
