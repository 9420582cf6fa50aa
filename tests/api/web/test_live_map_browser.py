"""The live map as a fleet controller uses it: headless Chromium against the real stack.

One `smartgate demo` (orchestrator + API + simulated world + vehicle nodes, separate
processes, like a user runs it) and one browser for the whole module; the tests run in
file order on the same page: log in, watch a vehicle move, close a lane on its way and see
its plan change, e-stop it (with confirmation) and see it stop, acknowledge the alarm, read
the audit log, re-prioritise/hold/release a consignment, switch language, log out; then a
viewer on a laptop screen sees no controls. Screenshots go to test-artifacts/web_e2e/.

Chromium is Debian's (`apt-get install chromium`), driven by Playwright's Python package;
there is no `playwright install`. A missing chromium FAILS these tests: it is a setup
error, not a reason to skip.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from typer.testing import CliRunner

from smartgate.cli.users import user_app
from tests.conftest import REPO
from tests.smartgate.storage.recordkit import declaration

pytestmark = pytest.mark.ros  # the demo's processes talk DDS

ARTIFACTS = REPO / "test-artifacts" / "web_e2e"
CORRIDOR = "huu-nghi"
ADMIN = ("e2e-admin", "e2e-admin-pass-1")
VIEWER = ("e2e-viewer", "e2e-viewer-pass-1")
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(
    method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def _add_user(db: str, username: str, password: str, role: str) -> None:
    """The real mechanism: the `smartgate user add` command (password on stdin)."""
    r = CliRunner().invoke(
        user_app,
        ["add", username, "--role", role, "--password-stdin", "--db", db],
        input=password + "\n",
    )
    assert r.exit_code == 0, r.output


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`smartgate demo` on a free port with a fresh database holding an admin and a viewer."""
    tmp = tmp_path_factory.mktemp("web_e2e")
    db = f"sqlite:///{tmp / 'e2e.db'}"
    _add_user(db, *ADMIN, "admin")
    _add_user(db, *VIEWER, "viewer")
    port = _free_port()
    domain = str((int(os.environ["ROS_DOMAIN_ID"]) + 7) % 90 + 10)
    log = (tmp / "demo.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smartgate.cli",
            "demo",
            "--port",
            str(port),
            "--rtf",
            "2",
            "--domain-id",
            domain,
            "--db",
            db,
            "--corridor",
            CORRIDOR,
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "demo.log").read_text()
            try:
                _http("GET", f"{url}/api/v1/health")
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo's API did not come up"
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium)")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # only this run's screenshots
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def page(browser: Browser, stack: str) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    p = ctx.new_page()
    p.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    outside: list[str] = []
    p.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "data:", "ws://127.0.0.1"))
            else outside.append(r.url)
        ),
    )
    p.goto(stack + "/#corridor=" + CORRIDOR)
    yield p
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not outside, f"the page reached outside localhost: {outside}"


def _js(page: Page, expr: str) -> Any:
    return page.evaluate(expr)


MOVING_JS = "v => v.status === 'moving' && v.mode !== 'estopped' && v.speed_mps > 0.5"


def _moving_vehicle(page: Page) -> str:
    """A vehicle driving now (waits for the demo's mission to start)."""
    page.wait_for_function(
        f"() => window.smartgate.vehicles.all().some({MOVING_JS})", timeout=60_000
    )
    vid = _js(page, f"() => window.smartgate.vehicles.all().find({MOVING_JS}).id")
    assert isinstance(vid, str)
    return vid


def _marker_centre(page: Page, vid: str) -> tuple[float, float]:
    box = page.locator(f'.veh-marker[data-vehicle-id="{vid}"]').bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


# ----------------------------------------------------------------------------- tests, in order


def test_login_required_then_map_with_vehicles(page: Page) -> None:
    expect(page.locator("#login-screen")).to_be_visible()
    # Vietnamese by default, for the control room in Lạng Sơn.
    expect(page.locator("#login-submit")).to_have_text("Đăng nhập")
    _shot(page, "01-login")
    page.fill("#login-user", ADMIN[0])
    page.fill("#login-pass", "wrong-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    page.fill("#login-pass", ADMIN[1])
    page.click("#login-submit")
    expect(page.locator("#login-screen")).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#map")).to_have_attribute("data-map-loaded", CORRIDOR)
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#user-name")).to_have_text(ADMIN[0])
    expect(page.locator(".veh-marker[data-vehicle-id]").first).to_be_visible()
    # the map is drawn from the corridor's GeoJSON: reserved lanes, zero line, markers
    expect(page.locator("path.lane-driverless").first).to_be_attached()
    expect(page.locator("path.zero-line")).to_have_count(1)
    expect(page.locator(".border-marker").first).to_be_attached()
    _shot(page, "02-map")


def test_vehicles_move_on_the_map(page: Page) -> None:
    vid = _moving_vehicle(page)
    marker = page.locator(f'.veh-marker[data-vehicle-id="{vid}"]')
    expect(marker).to_have_attribute("data-state", "moving")
    # zoom in on it (no follow: the map stays put and the marker crosses the screen)
    page.evaluate(
        f"() => window.smartgate.map.setView(window.smartgate.vehicles.position('{vid}'), 18,"
        " {animate: false})"
    )
    before = _marker_centre(page, vid)
    page.wait_for_timeout(2500)
    after = _marker_centre(page, vid)
    moved = ((after[0] - before[0]) ** 2 + (after[1] - before[1]) ** 2) ** 0.5
    assert moved > 5, f"marker of {vid} moved {moved:.1f} px in 2.5 s"
    # smooth: the marker glides between updates (at most 10 a second), so sampling its drawn
    # position every animation frame for a second finds many more positions than updates
    counts = _js(
        page,
        f"""() => new Promise((done) => {{
            const seen = new Set();
            let updates = 0;
            let last = window.smartgate.vehicles.get("{vid}");
            const t0 = performance.now();
            const step = () => {{
                seen.add(JSON.stringify(window.smartgate.vehicles.position("{vid}")));
                const now = window.smartgate.vehicles.get("{vid}");
                if (now !== last) {{ updates += 1; last = now; }}
                if (performance.now() - t0 < 1000) requestAnimationFrame(step);
                else done({{ positions: seen.size, updates }});
            }};
            requestAnimationFrame(step);
        }})""",
    )
    assert counts["positions"] > counts["updates"] + 5, counts
    # its planned path and reserved stretch are drawn (from /api/v1/routes or the live feed)
    expect(page.locator(f'path.plan-path[data-vehicle-id="{vid}"]')).to_be_attached()
    expect(page.locator(f'path.reserved-path[data-vehicle-id="{vid}"]')).to_be_attached()
    _shot(page, "03-moving")


def test_close_a_lane_and_traffic_reroutes(page: Page) -> None:
    """Close the lane ahead of a driving vehicle: its drawn plan changes.

    The orchestrator re-routes around a closed lane when the guide graph has another way,
    else it holds the vehicle before the lane (Hữu Nghị's guide vehicles have one reserved
    lane to the border, so there it holds): either way the plan on the map changes.
    """
    # a driving vehicle whose route still has a (closable) lane ahead of it
    pick = f"""() => {{
        const lanes = new Set(window.smartgate.ops.lanes.map((l) => l.lane_id));
        for (const v of window.smartgate.vehicles.all()) {{
            if (!({MOVING_JS})(v)) continue;
            const ahead = ((v.mission && v.mission.lanes) || [])
                .filter((l) => l !== v.lane_id && lanes.has(l));
            if (ahead.length) return [v.id, ahead[0]];
        }}
        return null;
    }}"""
    page.wait_for_function(pick, timeout=90_000)
    vid, lane = _js(page, pick)
    plan = page.locator(f'path.plan-path[data-vehicle-id="{vid}"]')
    expect(plan).to_be_attached()
    changes = _js(page, f"() => window.smartgate.routes.changes({json.dumps(vid)})")
    page.click('#tabs [data-tab="lanes"]')
    item = page.locator(f'#lane-list [data-lane-id="{lane}"]')
    expect(item).to_have_attribute("data-closed", "false")
    item.locator('[data-action="close"]').click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.click("#confirm-ok")  # a reason is required
    expect(page.locator("#confirm-error")).to_be_visible()
    page.fill("#confirm-reason", "e2e: lane maintenance")
    page.click("#confirm-ok")
    expect(item).to_have_attribute("data-closed", "true")
    expect(page.locator(f'path.lane-closed[data-lane-id="{lane}"]')).to_be_attached()
    page.wait_for_function(
        f"""() => {{
            const id = {json.dumps(vid)};
            const r = window.smartgate.routes.get(id);
            const v = window.smartgate.vehicles.get(id);
            const rerouted = window.smartgate.routes.changes(id) > {changes}
                && !((v.mission && v.mission.lanes) || []).includes({json.dumps(lane)});
            const held = r.plan_state === "holding"
                && String(r.hold_reason || "").includes({json.dumps(lane)});
            return rerouted || held;
        }}""",
    )
    state = _js(page, f"() => window.smartgate.routes.get({json.dumps(vid)}).plan_state")
    expect(plan).to_have_attribute("data-plan-state", state)
    page.click('#tabs [data-tab="vehicles"]')
    page.click(f'#vehicle-list [data-vehicle-id="{vid}"]')
    expect(page.locator("#vehicle-detail")).to_contain_text(lane)
    page.click("#fit-corridor")
    page.wait_for_timeout(400)  # the fit animation
    _shot(page, "04-lane-closed")
    page.click('#tabs [data-tab="lanes"]')
    item.locator('[data-action="reopen"]').click()
    page.click("#confirm-ok")
    expect(item).to_have_attribute("data-closed", "false")
    expect(page.locator(f'path.lane-closed[data-lane-id="{lane}"]')).to_have_count(0)
    page.wait_for_function(  # no longer held for that lane
        f"""() => !String(window.smartgate.routes.get({json.dumps(vid)}).hold_reason || "")
            .includes({json.dumps(lane)})"""
    )
    page.click('#tabs [data-tab="vehicles"]')
    page.keyboard.press("Escape")  # deselect
    expect(page.locator("#vehicle-detail")).to_be_hidden()


def test_estop_with_confirmation_stops_the_vehicle(page: Page) -> None:
    vid = _moving_vehicle(page)
    page.click(f'#vehicle-list [data-vehicle-id="{vid}"]')
    expect(page.locator("#vehicle-detail")).to_have_attribute("data-vehicle-id", vid)
    page.click("#vd-estop")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_class("danger")
    _shot(page, "05-estop-confirm")
    # cancelling sends nothing: the vehicle keeps moving
    page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(1000)
    expect(page.locator(f'#vehicle-list [data-vehicle-id="{vid}"]')).not_to_have_attribute(
        "data-state", "estopped"
    )
    page.click("#vd-estop")
    page.fill("#confirm-reason", "e2e: obstacle on the lane")
    page.click("#confirm-ok")
    expect(dialog).to_be_hidden()
    row = page.locator(f'#vehicle-list [data-vehicle-id="{vid}"]')
    expect(row).to_have_attribute("data-state", "estopped")
    expect(row.locator(".spd-val")).to_have_text("0.0")
    expect(page.locator("#vd-speed")).to_have_text("0.0")
    # The marker glides to each reported position over the gap between reports (up to
    # 1 s): measure once it has arrived at the last one, then see that no report moves it.
    page.wait_for_function(
        f"""() => {{ const it = window.smartgate.vehicles.items.get({json.dumps(vid)});
            return Math.abs(it.cur.lat - it.to.lat) + Math.abs(it.cur.lon - it.to.lon) < 1e-9; }}"""
    )
    a = _marker_centre(page, vid)
    page.wait_for_timeout(1500)
    b = _marker_centre(page, vid)
    assert abs(a[0] - b[0]) < 1 and abs(a[1] - b[1]) < 1, "an e-stopped vehicle moved"
    _shot(page, "06-estopped")
    # its alarm is listed while it holds, with or without the cleared ones shown
    page.click('#tabs [data-tab="alarms"]')
    for show_all in (False, True):
        page.set_checked("#alarm-show-all", show_all)
        if show_all:  # reloaded: the lane reopened above is among the cleared ones
            expect(page.locator('#alarm-list .alarm[data-cleared="true"]').first).to_be_attached()
        active = page.locator(
            f'#alarm-list .alarm[data-kind="estop"][data-subject="{vid}"][data-cleared="false"]'
        )
        expect(active).to_have_count(1)
    page.set_checked("#alarm-show-all", False)
    page.click('#tabs [data-tab="vehicles"]')
    page.click("#vd-resume")
    page.click("#confirm-ok")
    expect(row).not_to_have_attribute("data-state", "estopped")


def test_alarms_audit_and_kpis(page: Page) -> None:
    # the e-stop raised a critical alarm (cleared by the resume, still to acknowledge)
    page.click('#tabs [data-tab="alarms"]')
    page.check("#alarm-show-all")
    alarm = page.locator('#alarm-list .alarm[data-kind="estop"][data-acked="false"]').first
    expect(alarm).to_have_attribute("data-severity", "critical")
    alarm_id = alarm.get_attribute("data-alarm-id")
    alarm.locator('[data-action="ack"]').click()
    acked = page.locator(f'#alarm-list .alarm[data-alarm-id="{alarm_id}"]')
    expect(acked).to_have_attribute("data-acked", "true")
    expect(acked.locator(".acked")).to_contain_text(ADMIN[0])
    # every control action is in the audit log, chained
    page.click('#tabs [data-tab="audit"]')
    expect(page.locator("#audit-chain")).to_have_attribute("data-ok", "true")
    actions = page.locator("#audit-list td:nth-child(3)")
    expect(actions.filter(has_text="estop")).to_have_count(1)  # the cancelled one never left
    expect(actions.filter(has_text="close").first).to_be_attached()
    expect(actions.filter(has_text="ack").first).to_be_attached()
    expect(page.locator("#kpi-queue")).not_to_have_text("–")
    _shot(page, "07-audit")
    # the handoff link with the Chinese side, its state also labelled in Chinese
    page.click('#tabs [data-tab="link"]')
    link = page.locator(f'#link-list .link[data-corridor="{CORRIDOR}"]')
    state = link.get_attribute("data-link-state")
    zh = {"connected": "已连接", "lagging": "延迟", "down": "已断开", "not_configured": "未配置"}
    expect(link.locator(".link-state .zh")).to_have_text(zh[str(state)])
    _shot(page, "07-link")


def test_consignment_queue_hold_release_and_priority(page: Page, stack: str) -> None:
    token = page.evaluate("() => JSON.parse(sessionStorage.getItem('smartgate.session')).token")
    decl = declaration(901)
    _http("POST", f"{stack}/api/v1/consignments", decl, token)
    page.click('#tabs [data-tab="consignments"]')
    item = page.locator(f'#consignment-list [data-consignment-id="{decl["id"]}"]')
    expect(item).to_contain_text(decl["container_number"])
    expect(item).to_contain_text("Thanh long")  # goods kind, in Vietnamese
    expect(item.locator(".clr")).to_have_count(2)  # customs and quarantine status
    item.locator('[data-action="priority"]').click()
    page.fill("#confirm-number", "7")
    page.fill("#confirm-reason", "e2e: perishable, ship first")
    page.click("#confirm-ok")
    expect(page.locator("#toast")).to_have_text("Đã cập nhật lô hàng.")
    # as stored: reload the queue from the server before looking
    page.evaluate("() => window.smartgate.ops.refreshConsignments()")
    expect(item.locator(".prio")).to_have_text("7")
    item.locator('[data-action="hold"]').click()
    page.fill("#confirm-reason", "e2e: x-ray anomaly")
    page.click("#confirm-ok")
    expect(item).to_have_attribute("data-state", "held")
    _shot(page, "08-consignment-held")
    item.locator('[data-action="release"]').click()
    page.fill("#confirm-reason", "e2e: inspection passed")
    page.click("#confirm-ok")
    expect(item).not_to_have_attribute("data-state", "held")


def test_switch_language(page: Page) -> None:
    tab = page.locator('#tabs [data-tab="vehicles"]')
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(tab).to_have_text("Xe")
    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(tab).to_have_text("Vehicles")
    expect(page.locator("#pane-vehicles .panel-title")).to_have_text("Guide vehicle fleet")
    tab.click()
    _shot(page, "09-english")
    page.click("#lang-toggle")
    expect(tab).to_have_text("Xe")
    expect(page.locator("#pane-vehicles .panel-title")).to_have_text("Đội xe dẫn đường")
    # a reload keeps the session (this tab) and the language: no second login
    page.click("#lang-toggle")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#login-screen")).to_be_hidden()
    expect(tab).to_have_text("Vehicles")
    page.click("#lang-toggle")
    expect(tab).to_have_text("Xe")


def test_logout_ends_the_session(page: Page, stack: str) -> None:
    token = page.evaluate("() => JSON.parse(sessionStorage.getItem('smartgate.session')).token")
    page.click("#logout-btn")
    expect(page.locator("#login-screen")).to_be_visible()
    expect(page.locator("#conn-status")).not_to_have_attribute("data-state", "live")
    with pytest.raises(urllib.error.HTTPError) as e:
        _http("GET", f"{stack}/api/v1/vehicles", token=token)
    assert e.value.code == 401


def test_viewer_sees_no_controls(browser: Browser, stack: str) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    p = ctx.new_page()
    p.set_default_timeout(TIMEOUT_MS)
    try:
        p.goto(stack)
        p.fill("#login-user", VIEWER[0])
        p.fill("#login-pass", VIEWER[1])
        p.click("#login-submit")
        expect(p.locator("body")).to_have_attribute("data-ready", "true")
        vid = p.locator("#vehicle-list [data-vehicle-id]").first.get_attribute("data-vehicle-id")
        p.click(f'#vehicle-list [data-vehicle-id="{vid}"]')
        expect(p.locator("#vehicle-detail")).to_be_visible()
        expect(p.locator("#vd-estop")).to_have_count(0)
        expect(p.locator('#tabs [data-tab="audit"]')).to_be_hidden()
        p.click('#tabs [data-tab="lanes"]')
        expect(p.locator("#lane-list .lane-item").first).to_be_visible()
        expect(p.locator('#lane-list [data-action="close"]')).to_have_count(0)
        p.wait_for_timeout(500)  # let the zoom to the selected vehicle finish
        _shot(p, "10-viewer-laptop")
        # and the server refuses a viewer's e-stop anyway
        token = p.evaluate("() => JSON.parse(sessionStorage.getItem('smartgate.session')).token")
        with pytest.raises(urllib.error.HTTPError) as e:
            _http("POST", f"{stack}/api/v1/vehicles/{vid}/estop", {}, token)
        assert e.value.code == 403
    finally:
        ctx.close()
