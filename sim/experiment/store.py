"""An experiment's folder: the manifest, one checkpoint file per replication, and resuming.

Layout::

    experiment.json                what the experiment is (kind, seed, reps, arms with scenario digests)
    scenario.resolved.toml         the scenario (one arm), or scenarios/<arm>.toml (several)
    replications/rep-00000.parquet one per finished replication (in replications/<arm>/ for several
                                   arms), named by the engine's replication index
    replications/rep-00000.events.parquet, rep-00000.firms.parquet   with keep_events only

A checkpoint is the replication's monthly time series as Parquet (a table without columns for an
experiment run for its summaries only), with its summary (JSON) in the Parquet footer's key-value
metadata, and beside it ``rep-00000.sha256``: the SHA-256 of every file of the replication, in
``sha256sum`` format (``sha256sum -c`` checks it by hand). Files are written to a temporary name and
renamed, the checksum file last: it is the mark of a finished replication. So a run killed at any moment
leaves finished replications, or files without a checksum file, which are computed again; a file
damaged later (truncated, a flipped byte, a file from another replication) fails its checksum or its
identity check and is computed again.

``experiment.json`` is written before the first replication and holds nothing that changes from run
to run; a resume whose seed, replication count or scenarios differ from it is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import ScenarioError
from ..files import atomic_write_bytes, atomic_write_text, claim_folder, make_folder, write_json
from ..provenance import package_versions
from ..summary import RunSummary
from .arms import Arm
from .tasks import Measure, ReplicationOutput, read_checkpoint, summary_text

__all__ = ["MANIFEST", "OUTPUT_FILES", "CheckpointError", "ExperimentStore", "summary_text"]

log = logging.getLogger(__name__)

MANIFEST = "experiment.json"
FORMAT = "incuchain-experiment/1"
REPLICATIONS = "replications"
OUTPUT_FILES = (
    MANIFEST,
    "scenario.resolved.toml",
    "summary.csv",
    "summary_stats.csv",
    "timeseries.csv",
    "effects.csv",
    "cost_effectiveness.csv",
    "instruments.csv",
    "meta.json",
    "report.html",
)
"""Top-level files an experiment writes (removed by ``overwrite``)."""


class CheckpointError(Exception):
    """A checkpoint file is unreadable, incomplete or fails its checksum."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _remove(path: Path) -> None:
    """Delete a damaged checkpoint file, or whatever stands in its place (a folder, say)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _jsonable(value: Any) -> Any:
    """``value`` as it reads back from JSON (dates become strings), for comparing manifests."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


class ExperimentStore:
    """The folder of one experiment (see the module docstring).

    Parameters
    ----------
    root:
        The output folder.
    arms, reps, seed, keep_events, kind:
        The experiment, as recorded in the manifest.
    timeseries, measure:
        Whether the replications keep their time series, and the metrics added to their summaries
        (:func:`sim.experiment.runner.execute`); in the manifest only when they differ from the default
        (``true``, none), so the manifests of ordinary experiments stay as they were.
    """

    def __init__(
        self,
        root: Path,
        arms: Sequence[Arm],
        reps: int,
        seed: int,
        keep_events: bool,
        kind: str,
        timeseries: bool = True,
        measure: Measure | None = None,
    ) -> None:
        self.root = Path(root)
        self.arms = tuple(arms)
        self.reps = reps
        self.seed = seed
        self.keep_events = keep_events
        self.kind = kind
        self.timeseries = timeseries
        self.measure = measure

    # -- the manifest -------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """What the experiment is: everything a resume must match, nothing that varies between runs."""
        manifest: dict[str, Any] = _jsonable(
            {
                "format": FORMAT,
                "incuchain": package_versions()["incuchain"],
                "kind": self.kind,
                "seed": self.seed,
                "reps": self.reps,
                "keep_events": self.keep_events,
                **({} if self.timeseries else {"timeseries": False}),
                **({} if self.measure is None else {"measure": self.measure.describe()}),
                "arms": [
                    {
                        "label": a.label,
                        "scenario": a.scenario.name,
                        "scenario_sha256": a.digest,
                        "params": dict(a.params),
                        "replication_offset": a.replication_offset,
                    }
                    for a in self.arms
                ],
            }
        )
        return manifest

    def _differences(self, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        problems = []
        for key, what in (
            ("format", "folder format"),
            ("incuchain", "incuchain version"),
            ("kind", "kind of experiment"),
            ("seed", "seed"),
            ("reps", "replication count"),
            ("keep_events", "keep-events setting"),
            ("timeseries", "time-series setting"),
            ("measure", "set of measured metrics"),
        ):
            if old.get(key) != new.get(key):
                problems.append(f"{what} differs (the folder has {old.get(key)!r}, now {new.get(key)!r})")
        old_arms = old.get("arms") or []
        old_labels = [a.get("label") for a in old_arms]
        new_labels = [a["label"] for a in new["arms"]]
        if old_labels != new_labels:
            problems.append(f"scenarios differ (the folder has {old_labels}, now {new_labels})")
            return problems
        for o, n in zip(old_arms, new["arms"], strict=True):
            if o.get("scenario_sha256") != n["scenario_sha256"]:
                problems.append(
                    f"scenario {n['scenario']!r} (arm {n['label']}) has changed since the experiment started "
                    f"(sha256 {str(o.get('scenario_sha256'))[:12]}... -> {n['scenario_sha256'][:12]}...)"
                )
            for key in ("params", "replication_offset"):
                if o.get(key) != n[key]:
                    problems.append(f"arm {n['label']}: {key} differs (the folder has {o.get(key)!r}, now {n[key]!r})")
        return problems

    def open(self, resume: bool = False, overwrite: bool = False) -> None:
        """Create the folder, or check it for a resume; then write the manifest and scenarios.

        Raises
        ------
        ScenarioError
            The folder holds another experiment (or one to resume without ``resume``), or a resume
            does not match the experiment in the folder.
        OutputError
            The folder holds another kind of output (without ``overwrite``) or cannot be written.
        """
        if resume and overwrite:
            raise ScenarioError(["--resume and --overwrite: choose one"])
        names = ", ".join(dict.fromkeys(a.scenario.name for a in self.arms))
        claim_folder(self.root, f"experiment:{self.kind}", names, overwrite)
        manifest_path = self.root / MANIFEST
        rep_dir = self.root / REPLICATIONS
        new = self.manifest()
        if overwrite:
            self._clear()
        elif manifest_path.exists():
            if not resume:
                done = sum(1 for _ in rep_dir.rglob("rep-*.sha256")) if rep_dir.exists() else 0
                raise ScenarioError(
                    [
                        f"{self.root}: holds an experiment already ({done} replication files); "
                        "continue it with --resume or replace it with --overwrite"
                    ]
                )
            try:
                old = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ScenarioError([f"{manifest_path}: unreadable ({exc}); start again with --overwrite"]) from None
            problems = self._differences(old, new)
            if problems:
                raise ScenarioError([f"{self.root}: cannot resume: {p}" for p in problems])
        elif rep_dir.exists() and any(rep_dir.iterdir()):
            raise ScenarioError([f"{self.root}: has {REPLICATIONS}/ but no {MANIFEST}; start again with --overwrite"])
        write_json(manifest_path, new)
        if len(self.arms) == 1:
            atomic_write_text(self.root / "scenario.resolved.toml", self.arms[0].toml)
        else:
            folder = self.root / "scenarios"
            make_folder(folder)
            for arm in self.arms:
                atomic_write_text(folder / f"{arm.label}.toml", arm.toml)
        # Temporary files are left only by a run killed mid-write; none of them is a result.
        for name in OUTPUT_FILES:
            for tmp in self.root.glob(f".{name}.tmp*"):
                tmp.unlink()
        for a in range(len(self.arms)):
            make_folder(self.folder(a))
            for tmp in self.folder(a).glob(".*.tmp*"):
                tmp.unlink()

    def _clear(self) -> None:
        for name in (REPLICATIONS, "scenarios", "figures"):
            if (self.root / name).is_dir():
                shutil.rmtree(self.root / name)
        for name in OUTPUT_FILES:
            (self.root / name).unlink(missing_ok=True)

    # -- checkpoints -----------------------------------------------------------------------------

    def folder(self, a: int) -> Path:
        """Where arm ``a`` keeps its replication files."""
        base = self.root / REPLICATIONS
        return base if len(self.arms) == 1 else base / self.arms[a].label

    def rep_path(self, a: int, r: int, suffix: str = "parquet") -> Path:
        """A file of the experiment's replication ``r`` of arm ``a``.

        ``suffix``: ``parquet`` (the checkpoint), ``events.parquet``, ``firms.parquet``, ``sha256``.
        """
        index = self.arms[a].replication(r)
        return self.folder(a) / f"rep-{index:05d}.{suffix}"

    def _files(self, a: int, r: int) -> list[Path]:
        extra = ["events.parquet", "firms.parquet"] if self.keep_events else []
        return [self.rep_path(a, r, s) for s in (*extra, "parquet")]

    def save(self, a: int, r: int, output: ReplicationOutput) -> None:
        """Write one finished replication: its files, then the checksum file that marks it finished."""
        blobs: list[bytes] = []
        if self.keep_events:
            if output.events_parquet is None or output.firms_parquet is None:
                raise ValueError("keep_events is set but the replication returned no events")
            blobs += [output.events_parquet, output.firms_parquet]
        if output.checkpoint is None:
            raise ValueError("the replication returned no checkpoint")
        blobs.append(output.checkpoint)
        lines = []
        for path, data in zip(self._files(a, r), blobs, strict=True):
            atomic_write_bytes(path, data)
            lines.append(f"{_sha256(data)}  {path.name}\n")
        atomic_write_bytes(self.rep_path(a, r, "sha256"), "".join(lines).encode())

    def load(self, a: int, r: int, frame: bool = True) -> tuple[RunSummary, pd.DataFrame | None]:
        """Read and verify one replication: ``(summary, timeseries)`` (``None`` for it unless ``frame``).

        Raises
        ------
        FileNotFoundError
            The replication has not been written (no file of it exists).
        CheckpointError
            Its files are incomplete, fail their checksums, or belong to another replication.
        """
        sums = self.rep_path(a, r, "sha256")
        files = self._files(a, r)
        try:
            listing = sums.read_text(encoding="utf-8")
        except FileNotFoundError:
            if any(p.exists() for p in files):
                raise CheckpointError(files[-1], "no checksum file: the run stopped while writing it") from None
            raise
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(sums, f"unreadable ({exc})") from None
        expected = {}
        for line in listing.splitlines():
            digest, _, name = line.partition("  ")
            expected[name] = digest
        data = b""
        for path in files:
            if path.name not in expected:
                raise CheckpointError(sums, f"lists no checksum for {path.name}")
            try:
                data = path.read_bytes()
            except OSError:
                raise CheckpointError(path, "missing") from None
            if _sha256(data) != expected[path.name]:
                raise CheckpointError(path, "checksum mismatch (the file was changed or damaged)")
        try:
            # ``data`` is the checkpoint, read last in the loop above; its footer holds the summary.
            summary, table = read_checkpoint(data, frame)
        except (OSError, KeyError, TypeError, ValueError, pa.ArrowException) as exc:
            raise CheckpointError(files[-1], f"unreadable ({exc})") from None
        arm = self.arms[a]
        want = (arm.scenario.name, self.seed, arm.replication(r))
        found = (summary.scenario, summary.seed, summary.replication)
        if found != want:
            raise CheckpointError(files[-1], f"holds (scenario, seed, replication) {found}, expected {want}")
        return summary, table

    def scan(self) -> tuple[dict[tuple[int, int], RunSummary], list[str]]:
        """Verify every checkpoint on disk: the good ones' summaries, and what was damaged (deleted).

        Returns
        -------
        done:
            ``{(arm index, replication): summary}`` for each valid checkpoint.
        damaged:
            One line per damaged checkpoint, which is deleted so that it is computed again.
        """
        done: dict[tuple[int, int], RunSummary] = {}
        damaged: list[str] = []
        for a in range(len(self.arms)):
            for r in range(self.reps):
                try:
                    summary, _ = self.load(a, r, frame=False)
                except FileNotFoundError:
                    continue
                except CheckpointError as exc:
                    log.warning("damaged checkpoint, computing it again: %s", exc)
                    damaged.append(str(exc))
                    for suffix in ("sha256", "parquet", "events.parquet", "firms.parquet"):
                        _remove(self.rep_path(a, r, suffix))
                    continue
                done[(a, r)] = summary
        return done, damaged
