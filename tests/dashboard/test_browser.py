"""The dashboard in a real browser: Playwright driving Debian's Chromium against ``incuchain dashboard``.

One server (``scenarios/covid_rent_relief.toml``: a shock and a rent relief, so every kind of lever
is there), started on a free port of 127.0.0.1 and stopped by its process id with SIGTERM. One test
drives the page step by step, as a facilitator would (the steps build on each other, so they are one
test: parallel workers cannot split them). Screenshots of every view,
in English and Chinese, are kept under ``out/test-artifacts/dashboard/``.

Every request the page makes is checked to stay on 127.0.0.1 (others are refused and recorded): the
page must work offline.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SCENARIOS

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("panel")

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "out" / "test-artifacts" / "dashboard"
SCENARIO = SCENARIOS / "covid_rent_relief.toml"
REPS = 3
TIMEOUT_MS = 180_000  # generous: on a loaded 2-core machine one step can take a minute

if not CHROMIUM.exists():  # .ci/run installs it; never `playwright install`
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", str(SCENARIO), "--port", str(port), "--reps", str(REPS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    address = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if m and "incuchain dashboard" in line:
            address = m.group(1)
            break
    assert address is not None, f"the server did not say where it listens:\n{''.join(lines)}"
    info: dict[str, Any] = {"proc": proc, "url": address, "workers": _children(proc.pid)}
    try:
        yield info
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def page(server: dict[str, Any]) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)

        def route(r: Any) -> None:
            if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        pg = context.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(server["url"])
        pg.outside_requests = outside  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


def _src(page: Any, css: str) -> str:
    return str(page.locator(f"{css} img").first.get_attribute("src") or "")


def _numbers(page: Any) -> dict[str, list[str]]:
    """Headline numbers table: measure -> [baseline, variant, difference, interval]."""
    rows = page.locator(".numbers-pane table tbody tr")
    out = {}
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        out[cells[0]] = cells[1:]
    return out


def _wait_updated(page: Any, before: str, css: str = ".fig-flow-variant") -> str:
    """Wait until the figure in ``css`` differs from ``before``; returns its new source."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        src = _src(page, css)
        if src.startswith("data:image/png") and src != before:
            return src
        time.sleep(0.1)
    raise AssertionError(f"{css} did not update within {TIMEOUT_MS / 1000:.0f} s")


def _lever(page: Any, key: str) -> Any:
    return page.locator(f".lever-{key.replace('.', '-').replace('_', '-')} input").first


def _set(page: Any, key: str, value: str) -> None:
    box = _lever(page, key)
    box.fill(value)
    box.press("Enter")


def _shoot(page: Any, lang: str) -> None:
    """A screenshot of each tab: the whole page with the first, the tab alone with the others."""
    tabs = page.locator(".bk-tab")
    for i in range(tabs.count()):
        tabs.nth(i).click()
        time.sleep(0.3)
        if i != 3:  # per-world figures are drawn when their tab opens (the variant spends on rent relief)
            _wait_updated(page, "", ".fig-{}-variant".format(("flow", "occupancy", "survival", "", "spend")[i]))
        if i == 0:
            page.screenshot(path=str(ARTIFACTS / f"{lang}-{i}.png"), full_page=True)
        else:
            page.locator(".views").first.screenshot(path=str(ARTIFACTS / f"{lang}-{i}.png"))
    tabs.nth(0).click()


def _opens_with_both_worlds_equal(page: Any) -> None:
    _wait_updated(page, "", ".fig-flow-baseline")
    _wait_updated(page, "", ".fig-flow-variant")
    page.get_by_text("same random numbers").first.wait_for()
    page.locator(".status-line", has_text="Updated in").wait_for()
    numbers = _numbers(page)
    assert "active at the horizon" in numbers, numbers
    for measure, (base, var, diff, _) in numbers.items():
        # Before any lever moves both worlds are the scenario itself, on the same random numbers.
        assert base == var and diff in ("0", "0.0%", "0.00 M"), f"{measure}: {base} vs {var} ({diff})"
    twin = page.locator(".twin-pane p").first.inner_text()
    assert "cannot answer: stages." in twin, f"the twin should say why in one line: {twin!r}"
    page.screenshot(path=str(ARTIFACTS / "opened.png"), full_page=True)


def _lever_changes_the_variant_not_the_baseline(page: Any) -> None:
    before_b, before_v = _src(page, ".fig-flow-baseline"), _src(page, ".fig-flow-variant")
    numbers_before = _numbers(page)
    _set(page, "stages.incubator.admission.screening.threshold", "1.5")
    after_v = _wait_updated(page, before_v)
    page.locator(".status-line", has_text="Updated in").wait_for()
    time.sleep(0.3)
    numbers_after = _numbers(page)
    assert after_v != before_v
    assert _src(page, ".fig-flow-baseline") == before_b, "the baseline's figure changed with a variant lever"
    for measure, (base, *_rest) in numbers_before.items():
        assert numbers_after[measure][0] == base, f"baseline {measure} changed: {base} -> {numbers_after[measure][0]}"
    changed = [m for m in numbers_after if numbers_after[m][1] != numbers_before[m][1]]
    assert changed, f"a much stricter screening changed no headline number: {numbers_after}"


def _bad_input_shows_its_line_and_the_server_keeps_serving(page: Any) -> None:
    _set(page, "stages.accelerator.carriers.capacity", "0")
    err = page.locator(".error-stages-accelerator-carriers-capacity")
    err.get_by_text("stages.accelerator.carriers.capacity: must be between").wait_for()
    assert "Traceback" not in page.content()
    before = _src(page, ".fig-flow-variant")
    _set(page, "stages.accelerator.carriers.capacity", "2")  # a valid value that binds: the flows change
    _wait_updated(page, before)
    assert not err.get_by_text("must be between").is_visible(), "the message stayed after a valid value"


def _preset_that_applies_and_one_that_does_not(page: Any) -> None:
    select = page.locator("select").first
    select.select_option(label="Spend 100 M yuan: which mix?")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("does not apply to this scenario").wait_for()
    before = _src(page, ".fig-flow-baseline")
    select.select_option(label="The 2020 shock with and without rent relief")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Exercise applied").wait_for()
    page.get_by_text("the shock without rent relief").first.wait_for()
    _wait_updated(page, before, ".fig-flow-baseline")  # the preset sets the baseline too: relief off


def _more_precision_gives_intervals_and_the_forest_plot(page: Any) -> None:
    page.get_by_role("button", name="More precision").click()
    page.locator(".tab, .bk-tab", has_text="Effects").first.click()
    _wait_updated(page, "", ".fig-effects-paired")
    page.get_by_text(f"{REPS} paired replications").first.wait_for()
    numbers = _numbers(page)
    assert any(row[3].startswith("[") for row in numbers.values()), f"no interval after {REPS} replications: {numbers}"
    page.locator(".bk-tab", has_text="Chain flow").first.click()


def _language_switch_and_screenshots(page: Any) -> None:
    _shoot(page, "en")
    before = _src(page, ".fig-flow-variant")  # taken before the click: the redraw may beat the labels
    page.get_by_role("button", name="中文").click()
    page.get_by_text("研讨会").first.wait_for()
    page.get_by_text("加速器：载体数量").first.wait_for()
    _wait_updated(page, before)  # figures are redrawn with Chinese titles
    _shoot(page, "zh")
    page.get_by_role("button", name="English").click()
    page.get_by_text("incuchain workshop").first.wait_for()


def _downloads_are_a_report_and_a_valid_scenario(page: Any, tmp_path: Path) -> None:
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="Download scenario").click()
    toml = tmp_path / "variant.toml"
    dl.value.save_as(toml)
    check = subprocess.run([sys.executable, "-m", "sim", "validate", str(toml)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "admission.screening" in toml.read_text() or "screening" in toml.read_text()
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="Download report").click()
    report = tmp_path / "report.html"
    dl.value.save_as(report)
    html = report.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "incuchain comparison" in html
    assert "data:image/png;base64," in html, "the report must embed its figures"


def _sigterm_stops_the_server_and_its_workers(server: dict[str, Any]) -> None:
    proc = server["proc"]
    workers = _children(proc.pid)
    assert workers, "the server should run its worker processes"
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, "the server did not exit cleanly on SIGTERM"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), f"worker processes left behind: {workers}"


def test_a_workshop_session(server: dict[str, Any], page: Any, tmp_path: Path) -> None:
    """A facilitator's session, step by step on one page (one test: the steps build on each other)."""
    _opens_with_both_worlds_equal(page)
    _lever_changes_the_variant_not_the_baseline(page)
    _bad_input_shows_its_line_and_the_server_keeps_serving(page)
    _preset_that_applies_and_one_that_does_not(page)
    _more_precision_gives_intervals_and_the_forest_plot(page)
    _language_switch_and_screenshots(page)
    _downloads_are_a_report_and_a_valid_scenario(page, tmp_path)
    assert page.outside_requests == [], f"the page asked for outside resources: {page.outside_requests}"
    _sigterm_stops_the_server_and_its_workers(server)
