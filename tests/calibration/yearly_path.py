"""The province's yearly path: what docs/jiangsu.md tabulates and tests/calibration checks year by year.

    python -m tests.calibration.yearly_path --seeds 10 [--keep DIR] [--scenario FILE]  # the docs tables (mean, 95 % CI)

Per calendar year of the run, at the year's end: incubators open by level, incubator tenants, incubator
graduations per tenant-year over the year, jobs per active firm, cumulative incubator graduates; then jobs
per active firm at the horizon by the stage the firm is in.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim.stats import mean_ci

COLUMNS = (
    "incubators",
    "national",
    "provincial",
    "municipal",
    "tenants",
    "graduations_per_tenant_year",
    "jobs_per_active_firm",
    "cumulative_graduates",
)


def yearly_path(res: sim.RunResult) -> pd.DataFrame:
    """One row per calendar year the run covers, the columns of :data:`COLUMNS` at (or over) that year."""
    sc = res.scenario
    start = int(sc.calendar.start_year)
    years = int(round(sc.calendar.horizon_years))
    counts = res.carrier_counts
    inc_counts = counts[counts.stage == "incubator"]
    ts = res.timeseries
    inc = ts[ts.stage == "incubator"].sort_values("month")
    summary = res.summary()
    rows = []
    for k in range(1, years + 1):
        at = inc_counts[np.isclose(inc_counts.t_years, min(k, sc.calendar.horizon_years))]
        by_level = dict(zip(at.level, at["count"], strict=True))
        months = inc[(inc.month >= 12 * (k - 1)) & (inc.month < 12 * k)]
        end = months.iloc[-1]
        tenant_years = months["occupancy"].mean()  # month-end stocks over the year: tenant-years
        rows.append(
            {
                "year": start + k - 1,
                "incubators": int(sum(by_level.values())),
                "national": int(by_level.get("national", 0)),
                "provincial": int(by_level.get("provincial", 0)),
                "municipal": int(by_level.get("municipal", 0)),
                "tenants": int(end["occupancy"]),
                "graduations_per_tenant_year": float(months["graduations"].sum() / tenant_years),
                "jobs_per_active_firm": float(end["jobs"] / end["active"]),
                "cumulative_graduates": int(summary[f"graduates_cumulative.incubator.{start + k - 1}"]),
            }
        )
    return pd.DataFrame(rows)


def path_table(paths: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean and 95 % t-interval over seeds of every column, per year."""
    both = pd.concat(paths)
    out = []
    for year, part in both.groupby("year"):
        row: dict[str, object] = {"year": int(year)}
        for col in COLUMNS:
            e = mean_ci(part[col].to_numpy(float))
            row[col] = (e.mean, e.ci_low, e.ci_high)
        out.append(row)
    return pd.DataFrame(out)


def markdown(table: pd.DataFrame, n: int) -> str:
    def cell(v: tuple[float, float, float], digits: int) -> str:
        m, lo, hi = v
        f = f"{{:,.{digits}f}}"
        return f"{f.format(m)} ({f.format(lo)}-{f.format(hi)})" if n > 1 else f.format(m)

    digits = {"graduations_per_tenant_year": 3, "jobs_per_active_firm": 1}
    head = "| year | " + " | ".join(c.replace("_", " ") for c in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for r in table.itertuples(index=False):
        lines.append(f"| {r.year} | " + " | ".join(cell(getattr(r, c), digits.get(c, 0)) for c in COLUMNS) + " |")
    return "\n".join(lines)


def jobs_by_stage(res: sim.RunResult) -> pd.DataFrame:
    """Jobs per active firm at the horizon by the stage the firm is in (one row per stage)."""
    firms = res.firms
    active = firms[firms["outcome"] == "active"]
    out = active.groupby("outcome_stage", observed=True)["jobs_at_horizon"].mean()
    return pd.DataFrame({"stage": out.index.astype(str), "jobs_per_firm": out.to_numpy()})


def jobs_table(tables: list[pd.DataFrame], n: int) -> str:
    """Markdown: mean and 95 % t-interval over seeds of jobs per active firm at the horizon, by stage."""
    both = pd.concat(tables)
    lines = ["| stage at the horizon | jobs per active firm |", "|---|---|"]
    for stage, part in both.groupby("stage", sort=False):
        e = mean_ci(part["jobs_per_firm"].to_numpy(float))
        cell = f"{e.mean:.1f} ({e.ci_low:.1f}-{e.ci_high:.1f})" if n > 1 else f"{e.mean:.1f}"
        lines.append(f"| {stage} | {cell} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N (default 10)")
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep each seed's path in (reused if there)")
    parser.add_argument("--scenario", type=Path, default=None, help="scenario file (default: the province)")
    args = parser.parse_args()
    sc = sim.default_scenario() if args.scenario is None else sim.load_scenario(args.scenario)
    paths, jobs = [], []
    for seed in range(1, args.seeds + 1):
        kept = args.keep / f"seed{seed}.csv" if args.keep is not None else None
        kept_jobs = args.keep / f"jobs{seed}.csv" if args.keep is not None else None
        if kept is not None and kept_jobs is not None and kept.is_file() and kept_jobs.is_file():
            paths.append(pd.read_csv(kept))
            jobs.append(pd.read_csv(kept_jobs))
            continue
        res = sim.run(sc, seed=seed)
        path, by_stage = yearly_path(res), jobs_by_stage(res)
        if kept is not None and kept_jobs is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            path.to_csv(kept, index=False)
            by_stage.to_csv(kept_jobs, index=False)
        paths.append(path)
        jobs.append(by_stage)
        print(f"seed {seed} done", flush=True)
    print(markdown(path_table(paths), args.seeds))
    print()
    print(jobs_table(jobs, args.seeds))


if __name__ == "__main__":
    main()
