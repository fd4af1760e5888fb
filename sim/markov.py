"""Closed-form results for absorbing continuous-time Markov chains and queues.

This module is the analytic reference the simulator is checked against: when
every holding time is exponential, a chain of incubation *stages* (transient
states) ending in *outcomes* (absorbing states such as ``"failed"`` or
``"graduated"``) has exact answers for outcome probabilities, time spent in
each stage, the state distribution at any time, survival curves, and the
expected occupancy of each stage under Poisson arrivals. Classic M/M/c queue
formulas (Erlang B and C) cover capacity-limited stages.

Conventions
-----------
* Time is in **years**; every rate is **per year**.
* A chain has ``n`` stages and ``m`` outcomes. Full state vectors list the
  stages first, then the outcomes, in the order given at construction.
* ``T`` is the ``n x n`` transient generator (sub-generator): off-diagonal
  ``T[i, j]`` is the rate from stage ``i`` to stage ``j`` and the diagonal is
  minus the total outflow rate of the stage (to other stages and outcomes).
* A *settling* stage has zero total outflow (e.g. an industrial park with no
  graduation and no failure): firms that enter stay forever. More generally a
  stage is *trapped* if no outcome can be reached from it. Time-dependent
  quantities (:meth:`AbsorbingChain.state_probabilities`,
  :meth:`AbsorbingChain.survival`, :meth:`AbsorbingChain.occupancy`) work
  regardless; quantities that assume eventual absorption raise
  :class:`ValueError` naming the offending stage when it can be reached.

Nothing here draws random numbers, prints, or keeps global state.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# scipy ships no type information; the extra code keeps this line clean when
# scipy-stubs is installed (then the ignore is unused).
import scipy.linalg  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AbsorbingChain",
    "StartSpec",
    "erlang_b",
    "erlang_c",
    "mmc_mean_queue",
    "mmc_mean_wait",
]

#: How a starting state is given: a stage index, a stage name, or a
#: probability distribution over the ``n`` stages.
StartSpec = int | str | ArrayLike

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Tolerance on the total mass of an initial distribution: loose enough for
# distributions built from rounded shares, tight enough to catch a missing stage.
_DIST_SUM_ATOL = 1e-9


@dataclass(frozen=True, eq=False)
class AbsorbingChain:
    """Continuous-time Markov chain of transient stages and absorbing outcomes.

    Parameters
    ----------
    stages : tuple of str
        Names of the ``n >= 1`` transient states, in matrix order.
    outcomes : tuple of str
        Names of the ``m >= 0`` absorbing states, in matrix order. Stage and
        outcome names must all be distinct.
    Q : numpy.ndarray, shape (n, n)
        Stage-to-stage transition rates, per year. Off-diagonal entries must
        be finite and ``>= 0``. The diagonal is ignored on input and replaced
        by minus the total outflow rate of each stage, so after construction
        ``Q`` is the transient generator ``T`` (see :meth:`generator`).
    R : numpy.ndarray, shape (n, m)
        Stage-to-outcome rates, per year; finite and ``>= 0``.

    Raises
    ------
    ValueError
        If names are empty or repeated, shapes do not match, or a rate is
        negative, NaN or infinite.

    Notes
    -----
    The instance is immutable: ``Q`` and ``R`` are stored as read-only float
    copies. Equality is identity (``eq=False``) because element-wise array
    comparison has no single truth value.

    Examples
    --------
    One stage, failure at 0.3/yr and graduation at 0.2/yr:

    >>> chain = AbsorbingChain(("incubator",), ("failed", "graduated"),
    ...                        np.zeros((1, 1)), np.array([[0.3, 0.2]]))
    >>> chain.absorption_probabilities(0).round(2).tolist()
    [0.6, 0.4]
    """

    stages: tuple[str, ...]
    outcomes: tuple[str, ...]
    Q: FloatArray
    R: FloatArray

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        outcomes = tuple(self.outcomes)
        for label, names in (("stages", stages), ("outcomes", outcomes)):
            for name in names:
                if not isinstance(name, str) or not name:
                    raise ValueError(f"{label}: names must be non-empty strings, got {name!r}")
        if not stages:
            raise ValueError("stages: at least one transient stage is required")
        all_names = stages + outcomes
        duplicates = sorted({name for name in all_names if all_names.count(name) > 1})
        if duplicates:
            raise ValueError(f"stages/outcomes: names must be unique, repeated: {duplicates}")

        n, m = len(stages), len(outcomes)
        q = np.array(self.Q, dtype=np.float64, copy=True)
        r = np.array(self.R, dtype=np.float64, copy=True)
        if q.shape != (n, n):
            raise ValueError(f"Q: expected shape ({n}, {n}) for {n} stages, got {q.shape}")
        if r.shape != (n, m):
            raise ValueError(f"R: expected shape ({n}, {m}) for {n} stages and {m} outcomes, got {r.shape}")
        off_diagonal = ~np.eye(n, dtype=bool)
        _check_rates("Q", q, off_diagonal, stages, stages)
        _check_rates("R", r, np.ones_like(r, dtype=bool), stages, outcomes)

        np.fill_diagonal(q, 0.0)
        np.fill_diagonal(q, -(q.sum(axis=1) + r.sum(axis=1)))
        q.setflags(write=False)
        r.setflags(write=False)
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "outcomes", outcomes)
        object.__setattr__(self, "Q", q)
        object.__setattr__(self, "R", r)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_rates(
        cls,
        stages: Sequence[str],
        outcomes: Sequence[str],
        rates_per_year: Mapping[tuple[str, str], float],
    ) -> AbsorbingChain:
        """Build a chain from named transitions.

        Parameters
        ----------
        stages : sequence of str
            Transient stage names, in matrix order.
        outcomes : sequence of str
            Absorbing outcome names, in matrix order.
        rates_per_year : mapping of (str, str) to float
            ``{(from_stage, to_state): rate}``, rates per year. ``to_state``
            may be a stage or an outcome; missing pairs have rate 0.

        Returns
        -------
        AbsorbingChain

        Raises
        ------
        ValueError
            If a name is unknown, a transition leaves an outcome or loops on
            itself, or a rate is invalid.
        """
        stage_tuple, outcome_tuple = tuple(stages), tuple(outcomes)
        n, m = len(stage_tuple), len(outcome_tuple)
        stage_index = {name: i for i, name in enumerate(stage_tuple)}
        outcome_index = {name: k for k, name in enumerate(outcome_tuple)}
        q = np.zeros((n, n))
        r = np.zeros((n, m))
        for (source, target), rate in rates_per_year.items():
            if source not in stage_index:
                raise ValueError(
                    f"rates_per_year[{source!r}, {target!r}]: source must be a stage, known stages: {list(stage_tuple)}"
                )
            i = stage_index[source]
            if target in stage_index:
                if target == source:
                    raise ValueError(f"rates_per_year[{source!r}, {target!r}]: self-transitions are not allowed")
                q[i, stage_index[target]] = rate
            elif target in outcome_index:
                r[i, outcome_index[target]] = rate
            else:
                raise ValueError(
                    f"rates_per_year[{source!r}, {target!r}]: unknown target, "
                    f"known states: {list(stage_tuple + outcome_tuple)}"
                )
        return cls(stage_tuple, outcome_tuple, q, r)

    # -------------------------------------------------------------- structure
    @property
    def n_stages(self) -> int:
        """Number of transient stages ``n``."""
        return len(self.stages)

    @property
    def n_outcomes(self) -> int:
        """Number of absorbing outcomes ``m``."""
        return len(self.outcomes)

    @property
    def states(self) -> tuple[str, ...]:
        """All state names, stages first then outcomes (length ``n + m``)."""
        return self.stages + self.outcomes

    def generator(self) -> FloatArray:
        """Transient generator ``T``.

        Returns
        -------
        numpy.ndarray, shape (n, n)
            Rates per year: off-diagonal stage-to-stage rates, diagonal equal
            to minus the total outflow rate of each stage (to stages and
            outcomes). A fresh writable copy.
        """
        return np.array(self.Q, dtype=np.float64, copy=True)

    def full_generator(self) -> FloatArray:
        """Generator of the whole chain, stages then outcomes.

        Returns
        -------
        numpy.ndarray, shape (n + m, n + m)
            Rates per year, ``[[T, R], [0, 0]]``; every row sums to zero.
        """
        n, m = self.n_stages, self.n_outcomes
        full = np.zeros((n + m, n + m))
        full[:n, :n] = self.Q
        full[:n, n:] = self.R
        return full

    def outflow_rates(self) -> FloatArray:
        """Total outflow rate of each stage.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Rates per year (``-diag(T)``); 0 marks a settling stage.
        """
        return np.array(-np.diag(self.Q), dtype=np.float64)

    def trapped_stages(self) -> tuple[str, ...]:
        """Stages from which no outcome can ever be reached.

        Returns
        -------
        tuple of str
            Includes every settling stage (zero outflow) and every closed
            loop of stages without an exit. Empty for a proper absorbing chain.
        """
        trapped = ~self._can_reach_outcome()
        return tuple(name for name, flag in zip(self.stages, trapped, strict=False) if flag)

    # ------------------------------------------------------------ absorption
    def absorption_probabilities(self, start: StartSpec, *, allow_settling: bool = False) -> FloatArray:
        """Probability of eventually ending in each outcome.

        Solves ``(-T) B = R`` by LU factorisation (no explicit inverse) on the
        stages that can reach an outcome.

        Parameters
        ----------
        start : int, str or array_like of shape (n,)
            Starting stage (index or name) or initial distribution over stages.
        allow_settling : bool, default False
            If False, raise when a trapped (e.g. settling) stage is reachable
            from ``start``. If True, return the eventual probabilities anyway;
            they then sum to less than 1 and the deficit is the probability of
            staying in trapped stages forever.

        Returns
        -------
        numpy.ndarray, shape (m,)
            Dimensionless probabilities, in the order of :attr:`outcomes`.

        Raises
        ------
        ValueError
            If ``start`` is invalid, or (unless ``allow_settling``) a trapped
            stage is reachable from it.
        """
        p = self._start_vector(start)
        if not allow_settling:
            self._require_absorbing_from(p, purpose="absorption probabilities")
        ok = self._can_reach_outcome()
        if self.n_outcomes == 0 or not ok.any():
            return np.zeros(self.n_outcomes)
        result = p[ok] @ self._absorption_matrix
        return np.asarray(np.clip(result, 0.0, 1.0), dtype=np.float64)

    def expected_time_in_stage(self, start: StartSpec) -> FloatArray:
        """Expected total time spent in each stage before absorption.

        This is the ``start`` row of the fundamental matrix ``N = (-T)^-1``,
        obtained by solving ``(-T)^T x = p``.

        Parameters
        ----------
        start : int, str or array_like of shape (n,)
            Starting stage (index or name) or initial distribution over stages.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Expected years spent in each stage (all visits added up). Their sum
            is the expected time to absorption.

        Raises
        ------
        ValueError
            If ``start`` is invalid or a trapped (e.g. settling) stage is
            reachable from it, which makes the expected time infinite.
        """
        p = self._start_vector(start)
        return self._solve_rows(p, self.Q, purpose="expected time in stage")

    def expected_time_to_absorption(self, start: StartSpec) -> float:
        """Expected time until an outcome is reached.

        Parameters
        ----------
        start : int, str or array_like of shape (n,)
            Starting stage (index or name) or initial distribution over stages.

        Returns
        -------
        float
            Years.

        Raises
        ------
        ValueError
            As :meth:`expected_time_in_stage`.
        """
        return float(self.expected_time_in_stage(start).sum())

    def expected_visits(self, start: StartSpec) -> FloatArray:
        """Expected number of entries into each stage before absorption.

        Uses the embedded jump chain: with jump probabilities
        ``P[i, j] = T[i, j] / q_i`` (``q_i`` the outflow rate of stage ``i``),
        the visit counts are ``v = p (I - P)^-1``. Equivalently
        ``v_j = q_j * E[time in j]``.

        Parameters
        ----------
        start : int, str or array_like of shape (n,)
            Starting stage (index or name) or initial distribution over stages.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Expected number of entries (dimensionless), counting the initial
            entry into the starting stage.

        Raises
        ------
        ValueError
            If ``start`` is invalid or a trapped stage is reachable from it.
        """
        p = self._start_vector(start)
        outflow = self.outflow_rates()
        # Stages with zero outflow are trapped, so they are unreachable here
        # and their rows never enter the solve; guard the division anyway.
        safe = np.where(outflow > 0.0, outflow, 1.0)
        jump = self.Q / safe[:, None]
        np.fill_diagonal(jump, 0.0)
        return self._solve_rows(p, jump - np.eye(self.n_stages), purpose="expected visits")

    # --------------------------------------------------------- time-dependent
    def state_probabilities(self, start: StartSpec, t: ArrayLike) -> FloatArray:
        """Distribution over stages and outcomes at time(s) ``t``.

        Computes ``p0 expm(G t)`` with the full generator ``G``; valid whether
        or not the chain is absorbing (settling stages are fine).

        Parameters
        ----------
        start : int, str or array_like of shape (n,)
            Starting stage (index or name) or initial distribution over stages.
        t : float or array_like
            Time(s) since start, in years; finite and ``>= 0``.

        Returns
        -------
        numpy.ndarray, shape t.shape + (n + m,)
            Probabilities (stages first, then outcomes), so ``(n + m,)`` for a
            scalar ``t`` and ``(len(t), n + m)`` for a 1-D ``t``. Rounding
            noise below zero is clipped; each row sums to 1 up to rounding.

        Raises
        ------
        ValueError
            If ``start`` or ``t`` is invalid.
        """
        p = self._start_vector(start)
        times = _as_times(t)
        p0 = np.concatenate([p, np.zeros(self.n_outcomes)])
        flat = times.reshape(-1)
        # scipy's expm is batched over leading axes: one call for all times.
        transition = scipy.linalg.expm(flat[:, None, None] * self.full_generator())
        probs = np.einsum("i,kij->kj", p0, transition)
        probs = np.clip(probs, 0.0, None)
        return np.asarray(probs.reshape((*times.shape, p0.size)), dtype=np.float64)

    def survival(self, start: StartSpec, t: ArrayLike, failure_outcomes: Sequence[str]) -> FloatArray:
        """Probability of not having reached any of ``failure_outcomes`` by ``t``.

        Parameters
        ----------
        start : int, str or array_like of shape (n,)
            Starting stage (index or name) or initial distribution over stages.
        t : float or array_like
            Time(s) since start, in years; finite and ``>= 0``.
        failure_outcomes : sequence of str
            Outcome names that count as "death". A single string is taken as
            one name. Outcomes not listed (e.g. graduation) count as survival.

        Returns
        -------
        numpy.ndarray, shape t.shape
            ``S(t)``, dimensionless (a 0-d array for scalar ``t``).

        Raises
        ------
        ValueError
            If ``failure_outcomes`` is empty or names an unknown outcome, or
            ``start`` or ``t`` is invalid.
        """
        names = (failure_outcomes,) if isinstance(failure_outcomes, str) else tuple(failure_outcomes)
        if not names:
            raise ValueError("failure_outcomes: at least one outcome name is required")
        unknown = [name for name in names if name not in self.outcomes]
        if unknown:
            raise ValueError(f"failure_outcomes: unknown outcome(s) {unknown}, known: {list(self.outcomes)}")
        columns = sorted({self.n_stages + self.outcomes.index(name) for name in names})
        probs = self.state_probabilities(start, t)
        dead = probs[..., columns].sum(axis=-1)
        return np.asarray(np.clip(1.0 - dead, 0.0, 1.0), dtype=np.float64)

    def occupancy(self, arrival_rates: ArrayLike, t: ArrayLike, *, include_outcomes: bool = False) -> FloatArray:
        """Expected number of firms in each stage at time ``t``.

        The system starts empty at time 0 and receives independent Poisson
        arrivals at constant rates into the stages; firms move independently
        (an infinite-server network). Then
        ``E[N_j(t)] = sum_i lambda_i * int_0^t P_ij(s) ds``, computed exactly
        with the augmented-matrix exponential (Van Loan) ``expm([[G, 0],
        [lambda, 0]] t)``, which needs no inverse and so also covers settling
        stages (whose occupancy grows linearly in ``t``).

        Parameters
        ----------
        arrival_rates : array_like, shape (n,)
            Poisson arrival rate into each stage, firms per year, ``>= 0``.
        t : float or array_like
            Time(s) since the empty start, in years; finite and ``>= 0``.
        include_outcomes : bool, default False
            If True, also return the expected cumulative number of firms that
            have reached each outcome by ``t``.

        Returns
        -------
        numpy.ndarray, shape t.shape + (n,) or t.shape + (n + m,)
            Expected counts (firms).

        Raises
        ------
        ValueError
            If ``arrival_rates`` or ``t`` is invalid.
        """
        lam = self._arrival_vector(arrival_rates)
        times = _as_times(t)
        n, m = self.n_stages, self.n_outcomes
        size = n + m
        augmented = np.zeros((size + 1, size + 1))
        augmented[:size, :size] = self.full_generator()
        augmented[size, :n] = lam
        flat = times.reshape(-1)
        # Row vector [y(t), 1] = [0, 1] expm(A t) solves y' = y G + lambda, y(0) = 0.
        last_row = scipy.linalg.expm(flat[:, None, None] * augmented)[:, size, :size]
        width = size if include_outcomes else n
        counts = np.clip(last_row[:, :width], 0.0, None)
        return np.asarray(counts.reshape((*times.shape, width)), dtype=np.float64)

    def steady_state_occupancy(self, arrival_rates: ArrayLike) -> FloatArray:
        """Long-run expected number of firms in each stage.

        ``L = lambda (-T)^-1`` (Little's law per stage: arrivals times expected
        time spent there), solved by LU factorisation.

        Parameters
        ----------
        arrival_rates : array_like, shape (n,)
            Poisson arrival rate into each stage, firms per year, ``>= 0``.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Expected counts (firms).

        Raises
        ------
        ValueError
            If ``arrival_rates`` is invalid, or a trapped (e.g. settling) stage
            receives a positive inflow: its occupancy then grows without bound.
        """
        lam = self._arrival_vector(arrival_rates)
        return self._solve_rows(lam, self.Q, purpose="steady-state occupancy")

    def flows(self, arrival_rates: ArrayLike, t: ArrayLike | None = None) -> FloatArray:
        """Expected flow rates out of each stage.

        ``F[j, k] = L_j * rate_jk``, where ``L`` is the expected occupancy
        (steady state if ``t`` is None, else at time ``t``) and ``rate_jk`` the
        transition rate from stage ``j`` to state ``k``.

        Parameters
        ----------
        arrival_rates : array_like, shape (n,)
            Poisson arrival rate into each stage, firms per year, ``>= 0``.
        t : float or array_like, optional
            Time(s) since the empty start, in years. Default: steady state.

        Returns
        -------
        numpy.ndarray, shape (n, n + m) or t.shape + (n, n + m)
            Firms per year moving from each stage (rows) to each stage or
            outcome (columns, stages then outcomes); the diagonal is 0.

        Raises
        ------
        ValueError
            As :meth:`steady_state_occupancy` (steady state) or
            :meth:`occupancy` (at time ``t``).
        """
        level = self.steady_state_occupancy(arrival_rates) if t is None else self.occupancy(arrival_rates, t)
        rates = self.full_generator()[: self.n_stages]
        np.fill_diagonal(rates, 0.0)
        return np.asarray(level[..., :, None] * rates, dtype=np.float64)

    # -------------------------------------------------------------- internals
    def _stage_adjacency(self) -> BoolArray:
        adjacency = self.Q > 0.0
        np.fill_diagonal(adjacency, False)
        return adjacency

    @functools.cached_property
    def _absorption_matrix(self) -> FloatArray:
        """``B`` of ``(-T) B = R`` on the stages that can reach an outcome: one solve, whatever the start."""
        ok = self._can_reach_outcome()
        return np.asarray(scipy.linalg.solve(-self.Q[np.ix_(ok, ok)], self.R[ok]), dtype=np.float64)

    def _can_reach_outcome(self) -> BoolArray:
        exits = self.R.sum(axis=1) > 0.0
        return _reachable(self._stage_adjacency().T, exits)

    def _require_absorbing_from(self, weights: FloatArray, *, purpose: str) -> BoolArray:
        """Return the stages reachable from ``weights > 0``; raise if any is trapped."""
        reachable = _reachable(self._stage_adjacency(), weights > 0.0)
        bad = reachable & ~self._can_reach_outcome()
        if bad.any():
            outflow = self.outflow_rates()
            details = []
            for i in np.flatnonzero(bad):
                why = "settling: zero total outflow" if outflow[i] == 0.0 else "no path to any outcome"
                details.append(f"{self.stages[i]!r} ({why})")
            raise ValueError(
                f"{purpose}: stage(s) {', '.join(details)} can be reached, so firms may stay "
                "forever and the quantity is infinite or undefined; use state_probabilities() "
                "or occupancy() at finite times instead"
            )
        return reachable

    def _solve_rows(self, weights: FloatArray, matrix: FloatArray, *, purpose: str) -> FloatArray:
        """Solve ``x (-matrix) = weights`` on the stages reachable from ``weights``.

        Restricting to the reachable set keeps the system non-singular when an
        unrelated part of the chain contains settling stages.
        """
        reachable = self._require_absorbing_from(weights, purpose=purpose)
        result = np.zeros(self.n_stages)
        if reachable.any():
            sub = -matrix[np.ix_(reachable, reachable)]
            result[reachable] = scipy.linalg.solve(sub.T, weights[reachable])
        return np.asarray(np.clip(result, 0.0, None), dtype=np.float64)

    def _start_vector(self, start: StartSpec) -> FloatArray:
        n = self.n_stages
        if isinstance(start, str):
            if start not in self.stages:
                raise ValueError(f"start: unknown stage {start!r}, known: {list(self.stages)}")
            index: int = self.stages.index(start)
            return _one_hot(index, n)
        if isinstance(start, (bool, np.bool_)):
            # Contract of this module: every invalid input raises ValueError.
            msg = f"start: expected a stage index, name or distribution, got {start!r}"
            raise ValueError(msg)
        if isinstance(start, (int, np.integer)):
            if not 0 <= int(start) < n:
                raise ValueError(f"start: stage index must be in [0, {n}), got {int(start)}")
            return _one_hot(int(start), n)
        try:
            p = np.asarray(start, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"start: not a stage index, name or distribution: {start!r}") from exc
        if p.shape != (n,):
            raise ValueError(f"start: distribution must have shape ({n},), got {p.shape}")
        if not np.all(np.isfinite(p)) or np.any(p < 0.0):
            raise ValueError(f"start: probabilities must be finite and >= 0, got {p.tolist()}")
        total = float(p.sum())
        if abs(total - 1.0) > _DIST_SUM_ATOL:
            raise ValueError(f"start: probabilities must sum to 1, got {total!r}")
        return np.array(p, dtype=np.float64)

    def _arrival_vector(self, arrival_rates: ArrayLike) -> FloatArray:
        n = self.n_stages
        lam = np.asarray(arrival_rates, dtype=np.float64)
        if lam.shape != (n,):
            raise ValueError(f"arrival_rates: expected shape ({n},), got {lam.shape}")
        if not np.all(np.isfinite(lam)) or np.any(lam < 0.0):
            raise ValueError(f"arrival_rates: must be finite and >= 0 per year, got {lam.tolist()}")
        return np.array(lam, dtype=np.float64)


# ---------------------------------------------------------------------- queues
def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B loss probability of an M/M/c/c system.

    Uses the stable recursion ``B(0) = 1``,
    ``B(k) = a B(k-1) / (k + a B(k-1))``.

    Parameters
    ----------
    servers : int
        Number of servers (e.g. incubator slots), ``>= 0``.
    offered_load : float
        ``a = lambda / mu`` in Erlangs (arrival rate per year divided by the
        service rate per year), finite and ``>= 0``.

    Returns
    -------
    float
        Probability that an arrival finds every server busy and is lost.

    Raises
    ------
    ValueError
        If ``servers`` is not a non-negative integer or ``offered_load`` is
        negative or not finite.
    """
    c = _check_servers(servers, minimum=0)
    a = _check_nonnegative("offered_load", offered_load)
    blocking = 1.0
    for k in range(1, c + 1):
        blocking = a * blocking / (k + a * blocking)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C probability of waiting in an M/M/c queue.

    ``C = c B / (c - a (1 - B))`` with ``B`` the Erlang B value.

    Parameters
    ----------
    servers : int
        Number of servers, ``>= 1``.
    offered_load : float
        ``a = lambda / mu`` in Erlangs; ``0 <= a < servers`` for stability.

    Returns
    -------
    float
        Probability that an arrival has to wait.

    Raises
    ------
    ValueError
        If ``servers < 1`` or the load is negative, not finite, or
        ``>= servers`` (no steady state).
    """
    c = _check_servers(servers, minimum=1)
    a = _check_nonnegative("offered_load", offered_load)
    if a >= c:
        raise ValueError(f"offered_load: must be < servers for a stable queue, got {a!r} with {c} server(s)")
    blocking = erlang_b(c, a)
    return c * blocking / (c - a * (1.0 - blocking))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time spent waiting in queue (excluding service) in an M/M/c queue.

    ``Wq = C(c, lambda/mu) / (c mu - lambda)``.

    Parameters
    ----------
    servers : int
        Number of servers, ``>= 1``.
    arrival_rate : float
        ``lambda``, arrivals per year, ``>= 0``.
    service_rate : float
        ``mu``, completions per year per server, ``> 0``.

    Returns
    -------
    float
        Mean wait in years.

    Raises
    ------
    ValueError
        If a rate is invalid or ``arrival_rate >= servers * service_rate``.
    """
    c, lam, mu = _check_mmc(servers, arrival_rate, service_rate)
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_mean_queue(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean number waiting in queue (excluding those in service) in an M/M/c queue.

    ``Lq = lambda Wq`` (Little's law).

    Parameters
    ----------
    servers : int
        Number of servers, ``>= 1``.
    arrival_rate : float
        ``lambda``, arrivals per year, ``>= 0``.
    service_rate : float
        ``mu``, completions per year per server, ``> 0``.

    Returns
    -------
    float
        Mean queue length (firms).

    Raises
    ------
    ValueError
        If a rate is invalid or ``arrival_rate >= servers * service_rate``.
    """
    c, lam, mu = _check_mmc(servers, arrival_rate, service_rate)
    a = lam / mu
    return erlang_c(c, a) * a / (c - a)


# -------------------------------------------------------------------- helpers
def _check_rates(
    label: str,
    matrix: FloatArray,
    mask: BoolArray,
    rows: tuple[str, ...],
    cols: tuple[str, ...],
) -> None:
    bad = mask & ~(np.isfinite(matrix) & (matrix >= 0.0))
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise ValueError(
            f"{label}[{rows[i]!r}, {cols[j]!r}]: rates must be finite and >= 0 per year, got {float(matrix[i, j])!r}"
        )


def _reachable(adjacency: BoolArray, sources: BoolArray) -> BoolArray:
    """Nodes reachable (in zero or more steps) from ``sources`` along ``adjacency``."""
    reached = sources.copy()
    frontier = sources.copy()
    while frontier.any():
        step = adjacency[frontier].any(axis=0) & ~reached
        reached |= step
        frontier = step
    return reached


def _one_hot(index: int, size: int) -> FloatArray:
    vector = np.zeros(size)
    vector[index] = 1.0
    return vector


def _as_times(t: ArrayLike) -> FloatArray:
    try:
        times = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"t: expected time(s) in years, got {t!r}") from exc
    if not np.all(np.isfinite(times)) or np.any(times < 0.0):
        raise ValueError(f"t: times must be finite and >= 0 years, got {times.tolist()}")
    return times


def _check_servers(servers: int, *, minimum: int) -> int:
    if isinstance(servers, (bool, np.bool_)) or not isinstance(servers, (int, np.integer)):
        # Contract of this module: every invalid input raises ValueError.
        raise ValueError(f"servers: expected an integer, got {servers!r}")
    if servers < minimum:
        raise ValueError(f"servers: must be >= {minimum}, got {int(servers)}")
    return int(servers)


def _check_nonnegative(label: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0.0:
        raise ValueError(f"{label}: must be finite and >= 0, got {value!r}")
    return number


def _check_mmc(servers: int, arrival_rate: float, service_rate: float) -> tuple[int, float, float]:
    c = _check_servers(servers, minimum=1)
    lam = _check_nonnegative("arrival_rate", arrival_rate)
    mu = _check_nonnegative("service_rate", service_rate)
    if mu == 0.0:
        raise ValueError("service_rate: must be > 0 per year, got 0.0")
    if lam >= c * mu:
        raise ValueError(
            f"arrival_rate: must be < servers * service_rate = {c * mu!r} per year for a stable queue, got {lam!r}"
        )
    return c, lam, mu
