"""The workshop dashboard: a policy and its baseline side by side, live, in a browser.

``incuchain dashboard [SCENARIO]`` serves it (:func:`sim.dashboard.server.serve`). The page is a thin
layer over the public API: :mod:`~sim.dashboard.levers` reads the levers from the scenario and applies
them, :mod:`~sim.dashboard.views` calls :func:`sim.run`, :func:`sim.compare`, the figure functions,
the report writer and the closed-form twin, :mod:`~sim.dashboard.app` lays the page out (Panel) and
:mod:`~sim.dashboard.i18n` holds every text of the page in English and Simplified Chinese (the
figures draw theirs in the page's language, from :mod:`sim.plot.lang`). Only ``app`` and
``server`` need Panel (the ``dashboard`` extra). See ``docs/dashboard.md``.
"""

from __future__ import annotations

from .levers import Lever, LeverError, Preset, apply_levers, default_values, levers_for, presets_for

__all__ = ["Lever", "LeverError", "Preset", "apply_levers", "default_values", "levers_for", "presets_for"]
