"""The users page (用户管理) in a real browser against the real admin users API: add (a
refused password explained in Chinese), change a role, disable and enable, reset a
password — each checked by signing in as that user —, an API token for a user (its secret
shown once, acting as the user) and one for an integration, revoked from the list; and no
page for a monitor."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.server import VigilServer
from tests.browser.support import ADMIN, MONITOR, login, screenshot
from tests.browser.test_console_screenshots import publish
from tests.browser.test_console_zh import leaks

OpenPage = Callable[[], Page]


def can_sign_in(page: Page, vigil: VigilServer, username: str, password: str) -> bool:
    res = page.request.post(f"{vigil.url}/api/login",
                            data={"username": username, "password": password})
    assert res.status in (200, 401), res.text()
    return res.status == 200


def test_an_admin_manages_users_from_the_page(vigil: VigilServer, open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil, ADMIN)
    page.keyboard.press("8")
    expect(page).to_have_url(f"{vigil.url}/#/users")
    me = page.locator(f'#us-table tr[data-username="{ADMIN.username}"]')
    expect(me).to_contain_text("本人")
    expect(me.locator("select")).to_be_disabled()  # no demoting oneself
    expect(me.locator(".us-toggle")).to_have_count(0)  # nor disabling

    page.fill("#us-username", "carol")
    page.fill("#us-display", "监控员 陈静")
    page.select_option("#us-role", "dispatcher")
    page.fill("#us-password", "short")
    page.click("#us-add button[type=submit]")
    expect(page.locator("#us-errors li")).to_contain_text(["密码：至少 8 个字符"])
    assert not leaks(page), leaks(page)
    page.fill("#us-password", "carol-pass-2024")
    page.click("#us-add button[type=submit]")
    carol = page.locator('#us-table tr[data-username="carol"]')
    expect(carol).to_contain_text("监控员 陈静")
    expect(carol.locator("select")).to_have_value("dispatcher")
    assert can_sign_in(page, vigil, "carol", "carol-pass-2024")

    carol.locator("select").select_option("supervisor")
    expect(page.locator(".toast-ok").last).to_contain_text("值班长")
    user = vigil.store.get_user("carol")
    assert user is not None and user.role == "supervisor"

    carol.locator(".us-toggle").click()
    page.click("dialog button[value=ok]")
    expect(carol).to_have_attribute("data-disabled", "true")
    expect(carol).to_contain_text("已停用")
    assert not can_sign_in(page, vigil, "carol", "carol-pass-2024")
    carol.locator(".us-toggle").click()  # enabling asks nothing
    expect(carol).to_have_attribute("data-disabled", "false")

    carol.locator(".us-reset").click()
    page.fill("#us-newpass", "1234567")
    page.click("dialog button[value=ok]")
    expect(page.locator("dialog .form-error")).to_have_text("密码至少 8 个字符")
    page.fill("#us-newpass", "carol-new-pass-2024")
    page.click("dialog button[value=ok]")
    expect(page.locator(".toast-ok").last).to_contain_text("已重置")
    assert can_sign_in(page, vigil, "carol", "carol-new-pass-2024")
    assert not can_sign_in(page, vigil, "carol", "carol-pass-2024")
    assert not leaks(page), leaks(page)
    expect(page.locator(".toast")).to_have_count(0, timeout=10_000)  # a clean picture
    publish(str(screenshot(page, "users")), "users")


def test_a_monitor_has_no_users_page(vigil: VigilServer, open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil, MONITOR)
    expect(page.locator('[data-nav="users"]')).to_have_count(0)
    page.goto(f"{vigil.url}/#/users")
    expect(page.locator("#no-permission")).to_be_visible()


def test_the_admin_top_bar_fits_with_eight_views(vigil: VigilServer, open_page: OpenPage) -> None:
    """The users tab made the eighth view: sign-out must stay on screen at 1280 px."""
    page = open_page()
    login(page, vigil, ADMIN)
    for lang in ("zh", "en"):
        expect(page.locator(".nav-link")).to_have_count(8)
        right = page.evaluate(
            "() => document.querySelector('#logout').getBoundingClientRect().right")
        width = page.evaluate("() => document.documentElement.clientWidth")
        assert right <= width, f"{lang}: sign-out ends at {right} px of {width}"
        screenshot(page, f"topbar-admin-{lang}")
        page.click("#lang")


def me_with(page: Page, vigil: VigilServer, secret: str) -> tuple[int, dict[str, str]]:
    res = page.request.get(f"{vigil.url}/api/me", headers={"Authorization": f"Bearer {secret}"})
    return res.status, res.json() if res.ok else {}


def test_an_admin_gives_a_user_an_api_token_and_revokes_it(vigil: VigilServer,
                                                           open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil, ADMIN)
    page.goto(f"{vigil.url}/#/users")
    expect(page.locator("#tok-table")).to_contain_text("没有 API 令牌")
    page.locator(f'#us-table tr[data-username="{MONITOR.username}"] .us-token').click()
    expect(page.locator("#tok-user")).to_have_value(MONITOR.username)
    expect(page.locator("#tok-role")).to_be_hidden()  # a user's token has the user's role
    page.click("dialog button[value=ok]")
    expect(page.locator("dialog .form-error")).to_have_text("请填写名称")
    page.fill("#tok-name", "交班报表脚本")
    page.click("dialog button[value=ok]")
    secret = page.locator("#tok-secret").input_value()  # shown this once
    assert len(secret) >= 40
    expect(page.locator("dialog")).to_contain_text("只显示这一次")
    page.click("dialog button[value=ok]")
    row = page.locator("#tok-table tr", has_text="交班报表脚本")
    expect(row).to_have_attribute("data-state", "active")
    expect(row).to_contain_text("监控员 张伟（monitor）")
    expect(row).to_contain_text("监控员")
    assert secret not in page.content()  # the list never shows it
    status, me = me_with(page, vigil, secret)
    assert (status, me["username"], me["role"], me["kind"]) == (200, "monitor", "monitor", "api")

    page.click("#tok-new")  # an integration token: no user, a role of its own
    page.select_option("#tok-user", "")
    page.select_option("#tok-role", "dispatcher")
    page.fill("#tok-name", "110 接处警平台")
    page.click("dialog button[value=ok]")
    cad = page.locator("#tok-secret").input_value()
    page.click("dialog button[value=ok]")
    expect(page.locator("#tok-table tr", has_text="110 接处警平台")).to_contain_text("集成")
    assert me_with(page, vigil, cad)[1]["username"] == "token:110 接处警平台"

    row.locator(".tok-revoke").click()
    page.click("dialog button[value=ok]")
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row).to_contain_text("已撤销")
    expect(row.locator(".tok-revoke")).to_have_count(0)
    assert me_with(page, vigil, secret)[0] == 401
    token_id = row.get_attribute("data-token-id")
    actions = [e.action for e in vigil.store.audit_log(obj=f"token:{token_id}")]
    assert actions == ["token.revoke", "token.add"]
    assert not leaks(page), leaks(page)
    expect(page.locator(".toast")).to_have_count(0, timeout=10_000)
    page.locator("#tok-panel").scroll_into_view_if_needed()
    publish(str(screenshot(page, "users-tokens")), "users-tokens")
