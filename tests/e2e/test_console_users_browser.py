"""The users page and the audit trail in a real browser (Debian Chromium via Playwright): an
administrator creates a user and reads the one-time password once, changes the role, resets
the password, deactivates the user, is refused demoting the last active administrator, and
finds each change on 操作审计 with what it was before and after. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import make_hub

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub = make_hub(tmp_path_factory.mktemp("users-e2e"))
    with serving(hub) as url:
        yield url


def row(page: Page, username: str) -> Any:
    return page.locator(f"[data-testid=user-row][data-username='{username}']")


def test_an_admin_manages_a_user_and_finds_each_change_in_the_audit_trail(page: Page) -> None:
    sign_in(page, "admin")
    page.click("nav#main-nav a:text-is('操作审计')")
    expect(page.locator("h1")).to_have_text("操作审计")
    page.click("[data-testid=admin-tabs] a:text-is('用户与令牌')")
    expect(page.locator("h1")).to_have_text("用户与令牌")

    form = page.locator("[data-testid=user-create]")
    form.locator("input[name=username]").fill("li.ops")
    form.locator("input[name=display_name]").fill("李运营")
    form.locator("select[name=role]").select_option("ops")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=users-notice]")).to_contain_text("用户已创建")
    first = page.locator("[data-testid=one-time-secret]").inner_text()
    assert len(first) >= 12
    expect(row(page, "li.ops")).to_contain_text("一次性密码")
    shot(page, "90-users-created-zh")

    user = row(page, "li.ops")
    user.locator("[data-testid=role-select]").select_option("finance")
    user.locator("[data-testid=role-save]").click()
    expect(page.locator("[data-testid=users-notice]")).to_contain_text("角色已更改")
    expect(row(page, "li.ops").locator("[data-testid=role-select]")
           ).to_have_value("finance")

    row(page, "li.ops").locator("[data-testid=reset-password]").click()
    expect(page.locator("[data-testid=users-notice]")).to_contain_text("密码已重置")
    assert page.locator("[data-testid=one-time-secret]").inner_text() != first

    row(page, "li.ops").locator("[data-testid=deactivate]").click()
    expect(page.locator("[data-testid=users-notice]")).to_contain_text("用户已停用")
    expect(row(page, "li.ops").locator("[data-testid=user-state]")
           ).to_contain_text("已停用")

    admin = row(page, "admin")
    admin.locator("[data-testid=role-select]").select_option("ops")
    admin.locator("[data-testid=role-save]").click()
    expect(page.locator("[data-testid=users-error]")).to_contain_text("最后一个启用的管理员")
    shot(page, "91-users-last-admin-refused-zh")

    page.click("[data-testid=admin-tabs] a:text-is('操作审计')")
    entries = page.locator("[data-testid=audit-row]")
    expect(entries).to_have_count(4)
    expect(entries.nth(0)).to_contain_text("停用用户")
    expect(entries.nth(1)).to_contain_text("重置密码")
    expect(entries.nth(2)).to_contain_text("更改角色")
    expect(entries.nth(2).locator("[data-testid=audit-diff]")).to_contain_text("ops → finance")
    expect(entries.nth(3)).to_contain_text("创建用户")
    expect(page.locator("[data-testid=audit-entries]")).not_to_contain_text(first)
    page.locator("select[name=action]").select_option("user.role_change")
    page.click("[data-testid=audit-filters] button[type=submit]")
    expect(page).to_have_url(re.compile(r"action=user.role_change"))
    expect(page.locator("[data-testid=audit-row]")).to_have_count(1)
    shot(page, "92-audit-trail-zh")
