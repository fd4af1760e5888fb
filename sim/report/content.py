"""The report's content: headline numbers, effects and instrument tables, provenance rows and notes."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..capacity import never_full_lines, stage_found_full
from ..experiment.comparison import NO_VARIATION
from ..experiment.cost_effectiveness import SPEND, cost_bounds
from ..experiment.instruments import as_cost_row
from ..metric_names import NS, metric_unit, outcome_unit
from ..plot import (
    FigureInfo,
    cost_effectiveness_figure,
    headline_metrics,
    metric_label,
    spend_figure,
)
from ..provenance import package_versions, scenario_digest
from ..scenario import Scenario
from ..summary import RunSummary
from ..tables import EVER_LABEL, NEVER_LABEL
from .page import _code, _Figure, _table


def _budget_figures(ledger: pd.DataFrame | None, cost: pd.DataFrame | None, info: FigureInfo) -> list[_Figure]:
    out = []
    if ledger is not None and len(ledger):
        out.append(
            _Figure(
                "budget_spend",
                "Budget",
                "Support spending by instrument and year.",
                spend_figure(ledger, info),
            )
        )
    if cost is not None and len(cost):
        out.append(
            _Figure(
                "cost_effectiveness",
                "Cost-effectiveness",
                "Cost of each additional outcome, with confidence intervals.",
                cost_effectiveness_figure(cost, info),
            )
        )
    return out


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if math.isnan(x):
            return "-"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        ax = abs(x)
        if ax >= 1000:
            return f"{x:,.0f}"
        if ax >= 10:
            return f"{x:,.1f}"
        return f"{x:.{digits}g}"
    return str(x)


def _pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * float(x):.1f}%"


def _calendar_rows(sc: Scenario) -> list[tuple[str, str]]:
    cal = sc.calendar
    rows = [
        ("Start", cal.start.isoformat()),
        ("Horizon", f"{cal.horizon_years:g} years"),
    ]
    if cal.warmup_years:
        rows.append(("Warm-up", f"{cal.warmup_years:g} years (left out of flows and survival)"))
    return rows


def _provenance_rows(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    versions = meta.get("versions") or package_versions()
    rows = [("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()))]
    if "versions" not in meta:
        rows[0] = ("Versions", rows[0][1] + " (at report time)")
    if meta.get("created_at"):
        rows.append(("Results created", str(meta["created_at"])))
    if meta.get("command"):
        rows.append(("Command", " ".join(str(c) for c in meta["command"])))
    machine = meta.get("machine")
    if isinstance(machine, Mapping):
        rows.append(("Machine", f"{machine.get('platform', '')}, {machine.get('cpus', '?')} CPUs"))
    rows.append(("Report written", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
    return rows


def _run_rows(
    sc: Scenario | None,
    name: str,
    kind: str,
    seed: int | None,
    replications: Sequence[int],
    meta: Mapping[str, Any],
) -> list[tuple[str, str]]:
    rows = [("Scenario", name)]
    if sc is not None and sc.description:
        rows.append(("Description", sc.description))
    rows.append(("What", kind))
    rows.append(("Seed", "-" if seed is None else str(seed)))
    if replications:
        reps = list(replications)
        contiguous = reps == list(range(reps[0], reps[0] + len(reps)))
        rows.append(
            ("Replications", f"{reps[0]}-{reps[-1]}" if contiguous and len(reps) > 1 else ", ".join(map(str, reps)))
        )
    if sc is not None:
        rows += _calendar_rows(sc)
        digest = meta.get("scenario_sha256") or scenario_digest(sc)
        rows.append(("Scenario SHA-256", str(digest)))
        if sc.policies:
            rows.append(("Policies", "; ".join(_policy_text(p) for p in sc.policies)))
    rows += _provenance_rows(meta)
    return rows


def _policy_text(policy: Any) -> str:
    data = policy.model_dump(mode="json", exclude_none=True)
    name = data.pop("name", None)
    kind = data.pop("type", "policy")
    body = ", ".join(f"{k} = {v}" for k, v in data.items())
    return f"{name or kind} ({body})"


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list):
        out = {}
        for i, v in enumerate(data):
            out.update(_flat(v, f"{prefix}.{i}"))
        return out if data else {prefix: []}
    return {prefix: data}


def _scenario_differences(a: Scenario, b: Scenario) -> str:
    """The fields where the variant differs from the baseline, as a table."""
    fa, fb = _flat(a.to_dict()), _flat(b.to_dict())

    def filled_elsewhere(key: str) -> bool:  # an empty list on one side, items on the other
        return any(k.startswith(f"{key}.") for k in (*fa, *fb))

    keys = [k for k in dict.fromkeys([*fa, *fb]) if k != "name" and fa.get(k) != fb.get(k) and not filled_elsewhere(k)]
    if not keys:
        return "<p>The two scenarios are identical apart from their names.</p>"
    rows = [(k, _value(fa.get(k)), _value(fb.get(k))) for k in keys]
    return "<h3>Where the variant differs from the baseline</h3>" + _table(
        ["field", "baseline", "variant"], rows, numeric=()
    )


def _value(v: Any) -> str:
    return "(not set)" if v is None else json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v


def _ordered_stages(stages: Iterable[str], info: FigureInfo) -> list[str]:
    """Stages in chain order (a summary read back from JSON has its keys sorted)."""
    names = list(stages)
    return [s for s in info.stage_order if s in names] + [s for s in names if s not in info.stage_order]


def _year_label(y: float) -> str:
    return f"{y:g} year" if y == 1 else f"{y:g} years"


def _sentence(total: float, active: float, failed: float, exited: float, mean: bool = False) -> str:
    if not total or any(math.isnan(x) for x in (total, active, failed, exited)):
        return ""
    of = "On average, of" if mean else "Of"
    return (
        f"<p>{of} {_fmt(total)} firms, {_fmt(active)} ({active / total:.0%}) were active at the horizon, "
        f"{_fmt(failed)} ({failed / total:.0%}) had failed and {_fmt(exited)} ({exited / total:.0%}) had exited "
        "the modelled system.</p>"
    )


def _single_headline(summary: RunSummary, info: FigureInfo) -> str:
    top = [
        ("New firms (after the warm-up)", _fmt(summary.get("arrivals"))),
        ("Firms at the start", _fmt(summary.get("initial_stock"))),
        ("Active at the horizon", _fmt(summary.get("active_at_horizon"))),
        ("Failed", _fmt(summary.get("failed"))),
        ("Exited", _fmt(summary.get("exited"))),
    ]
    counts = [float(summary.get(k) or 0) for k in ("firms", "active_at_horizon", "failed", "exited")]
    parts = [_sentence(counts[0], counts[1], counts[2], counts[3]), _table(["outcome", "firms"], top, numeric=(1,))]
    stage_rows = []
    for stage in _ordered_stages(summary.stage_names, info):
        s = summary.stage(stage)
        stage_rows.append(
            (
                info.label(stage),
                _fmt(s.get("entries")),
                _fmt(s.get("graduations")),
                _fmt(s.get("timeouts")),
                _fmt(s.get("failures")),
                _fmt(s.get("mean_stay_years")),
                _fmt(s.get("mean_occupancy")),
                _fmt(s.get("occupancy_at_horizon")),
            )
        )
    parts.append(
        "<h3>By stage</h3>"
        + _table(
            [
                "stage",
                "entries",
                "graduated",
                "timed out",
                "failed",
                "mean stay (years)",
                "mean occupancy (firms)",
                "at the horizon (firms)",
            ],
            stage_rows,
            numeric=tuple(range(1, 8)),
        )
    )
    names = {"all": "all firms", "never_in_carrier": NEVER_LABEL, "ever_in_carrier": EVER_LABEL}
    surv = {name: summary.survival(key) for key, name in names.items() if f"survival.{key}.1y" in summary}
    keep = sorted({y for curve in surv.values() for y, v in curve.items() if not math.isnan(v)})
    if keep:
        srows = [(name, *(_pct(curve.get(y)) for y in keep)) for name, curve in surv.items()]
        parts.append(
            "<h3>Survival (Kaplan-Meier, share not failed)</h3>"
            + _table(["firms", *(_year_label(y) for y in keep)], srows, numeric=tuple(range(1, len(keep) + 1)))
        )
    return "".join(parts)


def _stats_headline(stats: pd.DataFrame | None, info: FigureInfo) -> str:
    if stats is None or stats.empty:
        return "<p>No statistics.</p>"
    by = {str(r.metric): r for r in stats.itertuples(index=False)}

    def cell(metric: str, share: bool = False) -> str:
        r = by.get(metric)
        if r is None or int(r.n) == 0:
            return "-"
        scale = 100.0 if share else 1.0
        mean = _fmt(float(r.mean) * scale)
        if math.isnan(float(r.ci_low)):
            return mean + ("%" if share else "")
        half = (float(r.ci_high) - float(r.ci_low)) / 2 * scale
        return f"{mean}{'%' if share else ''} ± {_fmt(half)}"

    overall = ["arrivals", "initial_stock", "active_at_horizon", "failed", "exited"]
    top = [(metric_label(m), cell(m)) for m in overall if m in by]

    def mean(metric: str) -> float:
        return float(by[metric].mean) if metric in by else math.nan

    parts = [
        _sentence(mean("firms"), mean("active_at_horizon"), mean("failed"), mean("exited"), mean=True),
        _table(["outcome", "firms: mean ± 95% CI half-width"], top, numeric=(1,)),
    ]
    stages = _ordered_stages(
        dict.fromkeys(m.split(".")[1] for m in by if m.startswith("stages.") and m.count(".") == 2), info
    )
    measures = ["entries", "graduations", "timeouts", "failures", "mean_stay_years", "mean_occupancy"]
    srows = [(info.label(s), *(cell(f"stages.{s}.{m}") for m in measures)) for s in stages]
    parts.append(
        "<h3>By stage (mean ± 95% CI half-width)</h3>"
        + _table(
            ["stage", "entries", "graduated", "timed out", "failed", "mean stay (years)", "mean occupancy (firms)"],
            srows,
            numeric=tuple(range(1, 7)),
        )
    )
    years = sorted({m.rsplit(".", 1)[1] for m in by if m.startswith("survival.")}, key=lambda y: float(y[:-1]))
    years = [y for y in years if any(int(by[f"survival.{g}.{y}"].n) > 0 for g in ("all",) if f"survival.{g}.{y}" in by)]
    if years:
        groups = (
            ("all", "all firms"),
            ("never_in_carrier", NEVER_LABEL),
            ("ever_in_carrier", EVER_LABEL),
        )
        rows = [(name, *(cell(f"survival.{g}.{y}", share=True) for y in years)) for g, name in groups]
        parts.append(
            "<h3>Survival (Kaplan-Meier, share not failed; mean ± 95% CI half-width)</h3>"
            + _table(
                ["firms", *(_year_label(float(y[:-1])) for y in years)], rows, numeric=tuple(range(1, len(years) + 1))
            )
        )
    return "".join(parts)


def _signed(x: float, share: bool) -> str:
    """A difference with its sign (``+4.25``, ``\u22124.25``; shares in percentage points)."""
    if math.isnan(x):
        return "-"
    if x == 0:
        return "0 pp" if share else "0"
    text = f"{100 * x:+.1f} pp" if share else ("+" if x > 0 else "") + _fmt(x)
    return text.replace("-", "\u2212")


def _effects_table(effects: pd.DataFrame, info: FigureInfo, headline: bool) -> str:
    metrics = list(effects["metric"].astype(str))
    eff = effects.set_index("metric", drop=False)
    chosen = headline_metrics(metrics) if headline else metrics
    if headline:
        # what the reader looks for: outcomes that exist and that something happened to
        chosen = [
            m
            for m in chosen
            if not math.isnan(float(eff.loc[m, "diff_mean"]))
            and not (float(eff.loc[m, "baseline_mean"]) == 0 and float(eff.loc[m, "variant_mean"]) == 0)
        ]
    with_ratio = "pairing_ci_ratio" in eff.columns and bool(eff["pairing_ci_ratio"].notna().any())
    rows = []
    for m in chosen:
        r = eff.loc[m]
        share = metric_unit(m) == "share"

        def num(x: Any, share: bool = share) -> str:
            return _pct(x) if share else _fmt(float(x))

        lo, hi = float(r["ci_low"]), float(r["ci_high"])
        ci = "-" if math.isnan(lo) else f"[{_signed(lo, share)}, {_signed(hi, share)}]"
        ci += _ns(float(r["diff_mean"]), lo, hi)
        row = [
            metric_label(m, info.label),
            num(r["baseline_mean"]),
            num(r["variant_mean"]),
            _signed(float(r["diff_mean"]), share),
            ci,
        ]
        if with_ratio:
            note = str(r.get("note", "") or "")
            row.append("no variation" if NO_VARIATION in note else _fmt(float(r["pairing_ci_ratio"])))
        row.append(str(r.get("note", "") or ""))
        rows.append(row)
    headers = ["outcome", "baseline", "variant", "difference", "95% CI"]
    headers += ["CI narrowed ×"] if with_ratio else []
    table = _table([*headers, "note"], rows, numeric=tuple(range(1, len(headers))))
    ratio_note = (
        " <em>CI narrowed ×</em>: how many times wider the interval would be with independent random numbers."
        if with_ratio
        else ""
    )
    dropped = "" if not headline else " Outcomes without values, or zero in both scenarios, are left out here."
    return table + (
        "<p class='small'>Differences are variant − baseline, paired replication by replication; survival in "
        f"percentage points (pp). {NS}: the interval contains 0 (not significant).{ratio_note}{dropped}</p>"
    )


def _yuan(x: Any) -> str:
    """Yuan, compactly (12.3 M, 830 k); '-' for a missing value."""
    v = float(x)
    if math.isnan(v):
        return "-"
    for scale, unit in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}".replace("-", "\u2212")
    return _fmt(v).replace("-", "\u2212")


def _instruments_table(table: pd.DataFrame) -> str:
    rows = []
    last: tuple[Any, Any] | None = None
    for r in table.itertuples(index=False):
        first = (r.instrument, r.arm) != last
        last = (r.instrument, r.arm)
        # the full variant's rows are those of its own arm (a policy may be called "all")
        name = "all (the full variant)" if r.arm == "variant" else f"{r.instrument} ({r.type})"
        lo, hi = float(r.effect_ci_low), float(r.effect_ci_high)
        effect_ci = "-" if math.isnan(lo) else f"[{_signed(lo, False)}, {_signed(hi, False)}]"
        effect_ci += _ns(float(r.effect_mean), lo, hi)
        cost, cost_ci = _cost_cells(as_cost_row(r._asdict()))
        rows.append(
            [
                name if first else "",
                _yuan(r.spend_yuan) if first else "",
                _yuan(r.spend_in_variant_yuan) if first else "",
                str(r.outcome).replace("_", " "),
                _signed(float(r.effect_mean), False),
                effect_ci,
                cost,
                cost_ci,
                "" if pd.isna(r.note) else str(r.note),
            ]
        )
    headers = [
        "instrument",
        "spend alone (yuan)",
        "spend in variant (yuan)",
        "outcome",
        "effect",
        "95% CI",
        "yuan per additional unit",
        "95% CI",
        "note",
    ]
    return _table(headers, rows, numeric=(1, 2, 4, 5, 6, 7)) + (
        "<p class='small'>Each instrument ran alone on top of the baseline, on the same replications as the "
        "baseline (common random numbers): effects are paired differences against the baseline. <em>Spend "
        "alone</em> is the instrument's own ledger in that run, <em>spend in variant</em> its ledger in the "
        "full variant (mean per replication). The cost per additional unit is the paired spend difference "
        "over the paired outcome difference, with a delta-method interval (its lower end never below 0). When "
        f"the effect's interval contains 0 ({NS}) the effect may be nil and the cost has no upper bound: the "
        "interval is open, from the spend over the largest effect the interval allows. "
        "Effects of instruments need not add up to the full variant's: "
        "instruments interact.</p>"
    )


def _capacity_html(scenario: Scenario | None, result: Mapping[str, Any] | pd.DataFrame | None) -> str:
    """The never-full notice (:mod:`sim.capacity`) as a paragraph, or nothing."""
    if scenario is None or result is None:
        return ""
    lines = never_full_lines(scenario, stage_found_full([result]))
    return "".join(f"<p class='small'>{html.escape(line)}</p>" for line in lines)


def _decomposition_html(table: pd.DataFrame) -> str:
    """The selection-versus-treatment split of :func:`sim.decompose` (its ``table``, or decomposition.csv)."""
    from ..decomposition import LABELS, OUTCOMES

    by = {(str(r.outcome), str(r.measure)): r for r in table.itertuples(index=False)}

    def cell(outcome: str, measure: str) -> str:
        r = by.get((outcome, measure))
        if r is None or math.isnan(float(r.mean)):
            return "-"
        scale = 1.0 if outcome == "jobs" else 100.0
        if math.isnan(float(r.ci_low)):
            return _signed(float(r.mean) * scale, False)
        return f"{_signed(float(r.mean) * scale, False)} ± {_fmt((float(r.ci_high) - float(r.ci_low)) / 2 * scale)}"

    measures = ("naive", "att", "selection", "selection_quality", "selection_stream", "selection_age")
    rows = [(LABELS[o], *(cell(o, m) for m in measures)) for o in OUTCOMES if (o, "att") in by]
    programme = str(table["programme"].iloc[0]) if "programme" in table.columns and len(table) else "the programme"
    return (
        f"<p>Participants of <b>{html.escape(programme)}</b> against all other firms arriving during the run. The "
        "naive gap (what a survey would measure) is the treatment effect on the treated (ATT: the same firms "
        "replayed with the programme switched off, same admissions) plus selection (who got in); selection is "
        "split by latent quality, entry stream and age at entry. Percentage points (jobs: per firm), means ± 95% "
        "CI half-width across replications.</p>"
        + _table(
            ["outcome", "naive gap", "treatment (ATT)", "selection", "of which quality", "stream", "age at entry"],
            rows,
            numeric=tuple(range(1, 7)),
        )
    )


def _notes(with_reference: bool, comparison: bool = False) -> str:
    items = [
        "Times are years since the scenario's start; calendar years on time axes count from it.",
        "Confidence intervals are t-based, across replications; with a single replication there are none.",
        "Capacity lines show places at the start, before any capacity policy.",
    ]
    if not comparison:
        items.append(
            "Survival of firms ever versus never in a carrier is an association, not an effect: it conditions on "
            "the future (a firm must survive to enter one) and mixes selection and time at risk with any effect "
            "of support. <code>incuchain decompose</code> (or <code>incuchain run --decompose STAGE</code>) splits "
            "a programme's gap into treatment and selection; <code>incuchain compare</code> measures a policy."
        )
    else:
        items.append(
            "Baseline and variant share their random numbers replication by replication, so each effect is "
            "estimated from paired differences."
        )
    if with_reference:
        items.append(
            "US BLS reference: establishments born in March 1994, share still open at ages 1 to 10 years "
            "(BLS, The Economics Daily, 2018-11-01)."
        )
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _reproduce(seed: int | None, replications: Sequence[int], single: bool, scenario_file: str) -> str:
    if seed is None or not replications:
        return ""
    if single:
        cmd = f"incuchain run {scenario_file} --seed {seed} --replication {replications[0]}"
    else:
        cmd = f"incuchain run {scenario_file} --seed {seed} --reps {len(replications)}"
    return _code(cmd)


def _subtitle(sc: Scenario | None) -> str:
    return sc.description if sc is not None and sc.description else ""


def _ns(diff: float, low: float, high: float) -> str:
    """`` n.s.`` after an interval that contains 0 (nothing for a missing or zero-width interval)."""
    if math.isnan(low) or math.isnan(high) or low == high == diff:
        return ""
    return "" if (low > 0 or high < 0) else f" {NS}"


def _cost_cells(row: Mapping[str, Any]) -> tuple[str, str]:
    """The cost per additional unit and its interval, as :func:`cost_bounds` reads them (never negative)."""
    est, low, high, significant = cost_bounds(row)
    if math.isnan(est):
        return "-", "-"
    if significant:
        return _yuan(est), "-" if math.isnan(low) else f"[{_yuan(low)}, {_yuan(high)}]"
    floor = "" if math.isnan(low) else f"at least {_yuan(low)}, "
    return f"{_yuan(est)} {NS}", f"[{floor}no upper bound]"


def _spend_years(metrics: Iterable[str]) -> str:
    """``2019-2026`` from the ``budget.year.<YYYY>`` metrics ("the horizon" without them)."""
    years = sorted(int(m.rsplit(".", 1)[1]) for m in metrics if re.fullmatch(r"budget\.year\.\d{4}", str(m)))
    if not years:
        return "over the horizon"
    return f"in {years[0]}" if len(years) == 1 else f"over {years[0]}-{years[-1]} ({len(years)} years)"


def _cost_section(cost: pd.DataFrame, effects: pd.DataFrame) -> str:
    """Spend and yuan per additional outcome, first thing on a comparison's page."""
    eff = effects.set_index("metric")
    spend = float(cost["spend_diff_mean"].dropna().iloc[0]) if cost["spend_diff_mean"].notna().any() else math.nan
    ci = ""
    if SPEND in eff.index and not math.isnan(float(eff.loc[SPEND, "ci_low"])):
        ci = f" (95% CI {_yuan(eff.loc[SPEND, 'ci_low'])} to {_yuan(eff.loc[SPEND, 'ci_high'])})"
    head = (
        f"<p>The variant spends {_yuan(spend)} yuan more than the baseline {_spend_years(eff.index)}{ci}, "
        "mean per replication.</p>"
    )
    rows = []
    for r in cost.to_dict("records"):
        value, interval = _cost_cells(r)
        lo, hi = float(r["outcome_ci_low"]), float(r["outcome_ci_high"])
        effect = _signed(float(r["outcome_diff_mean"]), False)
        effect += "" if math.isnan(lo) else f" [{_signed(lo, False)}, {_signed(hi, False)}]"
        effect += _ns(float(r["outcome_diff_mean"]), lo, hi)
        rows.append([f"per additional {outcome_unit(str(r['metric']))}", effect, value, interval])
    table = _table(["cost", "additional outcomes [95% CI]", "yuan per unit", "95% CI"], rows, numeric=(1, 2, 3))
    return (
        head
        + table
        + (
            "<p class='small'>Cost per unit: the paired spend difference over the paired outcome difference, with a "
            f"delta-method interval whose lower end is never below 0. {NS}: the outcome's interval contains 0, so "
            "the effect may be nil and the cost has no upper bound (the interval is open, from the spend over the "
            "largest effect the interval allows). A dash: no additional outcome on average.</p>"
        )
    )
