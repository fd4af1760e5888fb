"""The engine's primary output: an append-only, columnar event log.

One row per event: ``time`` (years since start), ``firm``, ``event`` (a code of :data:`EVENTS`),
``stage`` (stage index, -1 for none), ``carrier`` (carrier id, -1 for none) and ``info`` (an
event-specific integer, see :data:`EVENT_INFO`). Columns are typed ``array.array`` buffers while the
model runs (24 bytes per event) and become numpy arrays / a DataFrame at the end. Every other table
is derived from this log.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "CARRIER_EVENTS",
    "EVENTS",
    "EVENT_INFO",
    "RATINGS",
    "CarrierInfo",
    "Ev",
    "EventLog",
    "SimOutput",
    "event_rows",
    "event_values",
    "events_arrow",
    "events_frame",
    "gather_events",
    "shared_arrays",
    "stable_order",
]


class Ev(IntEnum):
    """Event codes, in the order they are written in the log's categorical ``event`` column."""

    ARRIVE = 0
    APPLY = 1
    ADMIT = 2
    REJECT = 3
    WAIT = 4
    RENEGE = 5
    SKIP = 6
    BLOCK = 7
    GRADUATE = 8
    TIME_OUT = 9
    FAIL = 10
    LEAVE = 11
    EXIT = 12
    ATTRIBUTE = 13


EVENTS: tuple[str, ...] = tuple(e.name.lower() for e in Ev)

EVENT_INFO: dict[str, str] = {
    "arrive": "a firm enters the model (new arrival, or initial stock at time 0); stage = where it heads; "
    "info = source number",
    "apply": "the firm asks to enter a stage; info = its visit number (0 = first stage it applies to)",
    "admit": "the firm enters the stage (and carrier); info = 1 if it came off the waiting list",
    "reject": "the stage's screening turned it away; it goes to the fallback",
    "wait": "no room: the firm joins the stage's waiting list",
    "renege": "its patience ran out on the waiting list; it goes to the fallback",
    "skip": "no room and no waiting: it goes to the fallback; info = fallback stage (-1 exit)",
    "block": "it graduated or timed out but the next stage is full: it stays, holding its slot; "
    "info = the stage it waits for",
    "graduate": "success at this stage; info = the stage it is routed to (-1 exit)",
    "time_out": "reached the stage's stay limit; info = the stage it is routed to (-1 exit)",
    "fail": "the firm fails (final)",
    "leave": "the firm vacates its slot in this stage/carrier; info = where it goes (-1 exit, -2 failed)",
    "exit": "the firm leaves the modelled system (final)",
    "attribute": "a firm attribute changes; info = attribute code (gm_matching, angel_fund: the policy's index)",
}


STAGE_SHIFT, CARRIER_SHIFT, INFO_SHIFT = 5, 16, 40
"""Bit layout of a packed row code: event (5 bits), stage + 1 (11), carrier + 1 (24), info + 2 (23)."""


_UNPACK_SLICE = 1 << 16
"""Rows unpacked at a time by :meth:`EventLog.columns` (a 512 KB buffer)."""


def shared_arrays(lengths: int | Sequence[int], dtypes: Sequence[type | np.dtype]) -> list[np.ndarray]:
    """Empty arrays of the given lengths (one length for all) and dtypes, as views of one allocation.

    Fresh memory costs a page fault per 4 KiB page on first write, which on a long log costs as much as the
    work that fills it; numpy asks the system to back an allocation of 4 MiB or more with huge pages, so
    one allocation for several columns takes a few faults where separate ones (each under 4 MiB) take
    thousands. Each view starts on a 64-byte boundary.
    """
    sizes = [lengths] * len(dtypes) if isinstance(lengths, int) else list(lengths)
    kinds = [np.dtype(d) for d in dtypes]
    spans = [-(-n * k.itemsize // 64) * 64 for n, k in zip(sizes, kinds, strict=True)]
    buffer = np.empty(sum(spans), np.uint8)
    views, offset = [], 0
    for n, k, span in zip(sizes, kinds, spans, strict=True):
        views.append(buffer[offset : offset + n * k.itemsize].view(k))
        offset += span
    return views


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` -- the same indices -- for integer keys such as firm ids.

    Keys from 0 to 2**32 - 1 are ordered by two passes of numpy's radix sort on 16-bit digits (low digit
    first, each pass stable), which on a long log takes about a quarter of the time of the merge sort
    ``argsort`` uses for 64-bit keys; other keys are handed to ``argsort``.
    """
    if len(keys) == 0 or keys.dtype.kind not in "iu":
        return np.argsort(keys, kind="stable")
    top = int(keys.max())
    if int(keys.min()) < 0 or top >= 1 << 32:
        return np.argsort(keys, kind="stable")
    if top < 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = np.argsort((keys[low] >> 16).astype(np.uint16), kind="stable")
    return low[high]


def pack(event: int, stage: int, carrier: int, info: int) -> int:
    """The packed code of one row (see :data:`STAGE_SHIFT`)."""
    return event | (stage + 1) << STAGE_SHIFT | (carrier + 1) << CARRIER_SHIFT | (info + 2) << INFO_SHIFT


class EventLog:
    """Append-only columnar buffers: ``time``, ``firm`` and a packed ``code`` per row.

    Packing event, stage, carrier and info into one 64-bit integer keeps the log at 24 bytes a row and
    costs the engine three appends per event; :meth:`columns` unpacks it with vectorised shifts.
    """

    __slots__ = ("code", "firm", "time")

    def __init__(self) -> None:
        self.time = array("d")
        self.firm = array("q")
        self.code = array("q")

    def __len__(self) -> int:
        return len(self.time)

    def append(self, time: float, firm: int, event: int, stage: int, carrier: int, info: int) -> None:
        self.time.append(time)
        self.firm.append(firm)
        self.code.append(pack(event, stage, carrier, info))

    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        return sum(a.itemsize * len(a) for a in (self.time, self.firm, self.code))

    def columns(self) -> dict[str, np.ndarray]:
        """The columns as numpy arrays: time, firm, event, stage, carrier, info.

        The codes are unpacked a slice at a time through one small buffer: the shifts of the whole log at
        once made a dozen temporary arrays of 8 bytes a row, which cost more in fresh memory than the
        shifts themselves. The four unpacked columns share one allocation (:func:`shared_arrays`).
        """
        n = len(self.time)
        time = np.frombuffer(self.time, dtype=np.float64) if n else np.empty(0)
        firm = np.frombuffer(self.firm, dtype=np.int64) if n else np.empty(0, np.int64)
        code = np.frombuffer(self.code, dtype=np.int64) if n else np.empty(0, np.int64)
        event, stage, carrier, info = shared_arrays(n, (np.int8, np.int16, np.int32, np.int32))
        buffer = np.empty(min(n, _UNPACK_SLICE), np.int64)
        for lo in range(0, n, _UNPACK_SLICE):
            hi = min(lo + _UNPACK_SLICE, n)
            part, b = code[lo:hi], buffer[: hi - lo]
            np.bitwise_and(part, 0x1F, out=b)
            event[lo:hi] = b
            np.right_shift(part, STAGE_SHIFT, out=b)
            b &= 0x7FF
            b -= 1
            stage[lo:hi] = b
            np.right_shift(part, CARRIER_SHIFT, out=b)
            b &= 0xFFFFFF
            b -= 1
            carrier[lo:hi] = b
            np.right_shift(part, INFO_SHIFT, out=b)
            b -= 2
            info[lo:hi] = b
        return {"time": time, "firm": firm, "event": event, "stage": stage, "carrier": carrier, "info": info}


def events_frame(
    cols: dict[str, np.ndarray], stage_names: tuple[str, ...], scenario: str, replication: int
) -> pd.DataFrame:
    """The log as a tidy DataFrame with categorical ``event`` and ``stage`` names."""
    n = len(cols["time"])
    stage_cats = (
        pd.Categorical.from_codes(cols["stage"].astype(np.int64), categories=list(stage_names))
        if n
        else pd.Categorical([], categories=list(stage_names))
    )
    return pd.DataFrame(
        {
            "scenario": pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[scenario])
            if n
            else pd.Categorical([]),
            "replication": np.full(n, replication, dtype=np.int32),
            "time": cols["time"].copy(),
            "firm": cols["firm"].copy(),
            "event": pd.Categorical.from_codes(cols["event"].astype(np.int64), categories=list(EVENTS)),
            "stage": stage_cats,
            "carrier": cols["carrier"].copy(),
            "info": cols["info"].copy(),
        }
    )


def events_arrow(
    cols: dict[str, np.ndarray], stage_names: tuple[str, ...], scenario: str, replication: int
) -> pa.Table:
    """The log as an Arrow table, straight from its columns: equal (schema, pandas metadata and values)
    to ``pa.Table.from_pandas(events_frame(...), preserve_index=False)`` without building the DataFrame.

    So ``pandas.read_parquet`` of the file gives :func:`events_frame` back.
    """
    n = len(cols["time"])
    if n == 0:
        return pa.Table.from_pandas(events_frame(cols, stage_names, scenario, replication), preserve_index=False)
    # the schema (with the pandas metadata) of a one-row frame of the same kind: categories, dtypes
    one = {k: v[:1] for k, v in cols.items()}
    schema = pa.Schema.from_pandas(events_frame(one, stage_names, scenario, replication), preserve_index=False)

    def coded(name: str, codes: np.ndarray, categories: list[str]) -> pa.Array:
        kind = schema.field(name).type
        indices = pa.array(codes.astype(kind.index_type.to_pandas_dtype()), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array(categories, type=kind.value_type))

    arrays = [
        coded("scenario", np.zeros(n, np.int8), [scenario]),
        pa.array(np.full(n, replication, dtype=np.int32)),
        pa.array(cols["time"]),
        pa.array(cols["firm"]),
        coded("event", cols["event"], list(EVENTS)),
        coded("stage", cols["stage"], list(stage_names)),
        pa.array(cols["carrier"]),
        pa.array(cols["info"]),
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


CARRIER_EVENTS = ("open", "close", "rating", "promote", "demote", "renew")
"""Kinds of carrier life-cycle rows (:attr:`SimOutput.carrier_events`), by code."""
RATINGS = ("unqualified", "qualified", "excellent")
"""Evaluation ratings, by code (the ``info`` of a ``rating`` row)."""


@dataclass(frozen=True)
class CarrierInfo:
    """A carrier as set up when it opened (capacity before any policy; level on opening)."""

    id: int
    stage: str
    level: str
    specialism: str | None
    capacity: int
    opened_years: float = 0.0  # 0 for the carriers of the start


@dataclass
class SimOutput:
    """What one replication produces: the event log and static facts needed to read it."""

    log: EventLog
    stage_names: tuple[str, ...]
    sectors: tuple[str, ...]
    carriers: list[CarrierInfo]
    firm_source: np.ndarray
    firm_index: np.ndarray
    firm_sector: np.ndarray
    firm_quality: np.ndarray
    firm_birth: np.ndarray
    source_names: tuple[str, ...]
    horizon: float
    # Carrier life cycle: (time, carrier, kind code of CARRIER_EVENTS, level code after the event, info)
    carrier_events: list[tuple[float, int, int, int, int]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


def event_rows(cols: dict[str, np.ndarray], kind: int) -> np.ndarray:
    """Row numbers of the events of one kind, in log order.

    Each kind's rows are found on first use (one pass over the 1-byte codes) and kept in ``cols`` itself
    (key ``_rows_<code>``), so every table derived from the same columns gathers the rows it needs
    instead of scanning the whole log per event kind. A summary reads about half the kinds, which a pass
    per kind finds in less time than sorting the whole log by kind.
    """
    key = f"_rows_{int(kind)}"
    rows = cols.get(key)
    if rows is None:
        rows = np.flatnonzero(cols["event"] == kind)
        rows.flags.writeable = False  # shared by every reader of these columns
        cols[key] = rows
    return rows


def event_values(cols: dict[str, np.ndarray], kind: int, column: str) -> np.ndarray:
    """One column at the rows of one event kind (:func:`event_rows`), in log order.

    Kept in ``cols`` like the rows (key ``_<column>_<code>``) and read-only: several tables read the same
    few columns of the same kinds (the admissions' firms and times, say), and gathering them from the
    whole log costs more than reading them again.
    """
    key = f"_{column}_{int(kind)}"
    values = cols.get(key)
    if values is None:
        values = cols[column][event_rows(cols, kind)]
        values.flags.writeable = False
        cols[key] = values
    return values


_SLICE = 1 << 17
"""Rows per slice in :func:`gather_events`: a slice of the widest column (8 bytes a row) stays in cache."""


def gather_events(cols: dict[str, np.ndarray], wanted: Mapping[int, Sequence[str]]) -> None:
    """Find the given columns at the rows of several event kinds (what :func:`event_values` gives, and
    keeps; the name ``"rows"`` asks for the rows themselves, :func:`event_rows`), all in one pass over the log.

    ``wanted``: ``{event code: column names}``. The log is read a slice at a time, and each kind's values
    are picked from the slice while it is in cache, so each column comes from memory once rather than
    once per kind: on a long log, that traffic is most of the cost of gathering. Values already kept are
    left as they are.
    """
    todo = {int(k): [c for c in columns if f"_{c}_{int(k)}" not in cols] for k, columns in wanted.items()}
    todo = {kind: columns for kind, columns in todo.items() if columns}
    if not todo:
        return
    ev = cols["event"]
    names = sorted({c for columns in todo.values() for c in columns if c != "rows"})
    # How many rows of each kind, first: the values then go straight to their place in one buffer, which
    # is large enough for the system to back with huge pages (a few page faults instead of thousands)
    hit = np.empty(min(len(ev), _SLICE), np.bool_)
    counts = dict.fromkeys(todo, 0)
    for lo in range(0, len(ev), _SLICE):
        codes, h = ev[lo : lo + _SLICE], hit[: min(_SLICE, len(ev) - lo)]
        for kind in todo:
            counts[kind] += int(np.count_nonzero(np.equal(codes, kind, out=h)))
    keys = [(kind, c) for kind, columns in todo.items() for c in columns]
    dtypes = [np.dtype(np.intp if c == "rows" else cols[c].dtype) for _, c in keys]
    found = dict(zip(keys, shared_arrays([counts[kind] for kind, _ in keys], dtypes), strict=True))
    filled = dict.fromkeys(todo, 0)
    for lo in range(0, len(ev), _SLICE):
        hi = min(lo + _SLICE, len(ev))
        part = {c: cols[c][lo:hi] for c in names}
        codes, h = ev[lo:hi], hit[: hi - lo]
        for kind, columns in todo.items():
            at = np.flatnonzero(np.equal(codes, kind, out=h))
            a = filled[kind]
            b = a + len(at)
            for c in columns:
                if c == "rows":
                    np.add(at, lo, out=found[kind, c][a:b])
                else:  # "clip" never clips these indices; "raise" would copy through a buffer first
                    np.take(part[c], at, out=found[kind, c][a:b], mode="clip")
            filled[kind] = b
    for (kind, name), joined in found.items():
        joined.flags.writeable = False
        cols[f"_{name}_{kind}"] = joined
