"""Regenerate the back tests' stored results: ``python -m tests.backtest.regenerate [NAME ...]``.

Only for a change that is meant to alter results; the commit says why they moved. With names, only the
cases whose scenario name contains one of them are regenerated.
"""

from __future__ import annotations

import sys

from tests.backtest.cases import CASES, compute, save


def main(argv: list[str]) -> int:
    chosen = [c for c in CASES if not argv or any(a in c.scenario for a in argv)]
    if not chosen:
        print(f"no back-test case matches {' '.join(argv)}", file=sys.stderr)
        return 2
    for case in chosen:
        save(case, compute(case))
        print(f"stored {case.path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
