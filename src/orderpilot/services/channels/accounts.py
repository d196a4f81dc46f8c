"""Channel accounts: one shop on one platform, its credentials and its health.

Credentials are written, never read back: the API and the console show which keys are set,
not their values. A PUT that leaves a credential out keeps the stored one, so staff can change
a region or a callback URL without retyping secrets. The base URL (a sandbox, a test server)
must pass the outbound allow-list when it is saved, as it will be checked again on each call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orderpilot.domain.channel_orders import PLATFORMS
from orderpilot.domain.errors import HostNotAllowed, InvalidInput, NotFound
from orderpilot.domain.records import JsonObject
from orderpilot.services import audit_trail
from orderpilot.services.channels.ports import Gateway
from orderpilot.services.unit_of_work import Clock, UowFactory, retrying

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
SHOP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
REGION = re.compile(r"^[A-Z]{2}$")
# Keys that may be left out: obtained later (refresh token) or needed only for pushes.
OPTIONAL = frozenset({"refresh_token", "webhook_secret"})


@dataclass(frozen=True)
class AccountInput:
    platform: str
    shop_id: str
    region: str = ""
    base_url: str = ""
    callback_url: str = ""
    currency: str = ""
    credentials: Mapping[str, str] = field(default_factory=dict)
    pull_every_minutes: int = 10
    enabled: bool = True


def put_account(code: str, data: AccountInput, uow_factory: UowFactory, clock: Clock,
                gateway: Gateway) -> tuple[dict[str, Any], bool]:
    """Create or replace the account CODE; returns (the account as shown, created)."""
    if not CODE.match(code):
        raise InvalidInput("a channel code is 2-64 lowercase letters, digits, _ and -, "
                           "e.g. shopee-sg", field="code",
                           zh="渠道代码应为 2-64 个小写字母、数字、_ 或 -，如 shopee-sg")
    platform = data.platform.strip().lower()
    if platform not in PLATFORMS:
        raise InvalidInput(f"unknown platform {data.platform!r}; one of: "
                           f"{', '.join(PLATFORMS)}", field="platform",
                           zh=f"未知平台 {data.platform!r}；可选：{'、'.join(PLATFORMS)}")
    known = gateway.platforms().get(platform)
    if known is None:
        raise InvalidInput(f"platform {platform} is not installed in this hub",
                           field="platform", zh=f"本系统未安装平台 {platform}")
    if not SHOP.match(data.shop_id.strip()):
        raise InvalidInput("shop_id is the platform's shop id: letters, digits, _ . : -",
                           field="shop_id", zh="shop_id 为平台的店铺编号：字母、数字、_ . : -")
    region = data.region.strip().upper()
    if region and not REGION.match(region):
        raise InvalidInput("region is a two-letter country code such as SG or MY",
                           field="region", zh="region 为两位国家代码，如 SG、MY")
    currency = data.currency.strip().upper()
    if currency and not re.match(r"^[A-Z]{3}$", currency):
        raise InvalidInput("currency is a three-letter ISO 4217 code", field="currency",
                           zh="currency 为三位 ISO 4217 币种代码")
    if not 0 <= data.pull_every_minutes <= 24 * 60:
        raise InvalidInput("pull_every_minutes is between 0 (off) and 1440",
                           field="pull_every_minutes",
                           zh="pull_every_minutes 应在 0（关闭）到 1440 之间")
    base_url = data.base_url.strip().rstrip("/")
    _check_urls(gateway, known.default_base_url, base_url, region, data.callback_url,
                data.shop_id.strip())
    unknown = sorted(set(data.credentials) - set(PLATFORMS[platform]))
    if unknown:
        raise InvalidInput(f"{platform} has no credential {unknown[0]!r}; its keys: "
                           f"{', '.join(PLATFORMS[platform])}",
                           field=f"credentials.{unknown[0]}",
                           zh=f"{platform} 没有凭据 {unknown[0]!r}；"
                              f"应为：{'、'.join(PLATFORMS[platform])}")
    for key, value in data.credentials.items():
        if not isinstance(value, str) or len(value) > 4000 \
                or any(ord(c) < 32 for c in value):
            raise InvalidInput(f"credentials.{key} must be text without control characters",
                               field=f"credentials.{key}",
                               zh=f"credentials.{key} 应为不含控制字符的文本")

    def attempt() -> tuple[dict[str, Any], bool]:
        now = clock()
        with uow_factory() as uow:
            store = uow.channels
            other = store.shop_taken(platform, data.shop_id.strip(), code)
            if other:
                raise InvalidInput(f"shop {data.shop_id} on {platform} is already channel "
                                   f"{other}", field="shop_id",
                                   zh=f"{platform} 店铺 {data.shop_id} 已是渠道 {other}")
            before = store.account_row(code)
            if before is not None and before["platform"] != platform:
                raise InvalidInput(f"channel {code} is on {before['platform']}; delete it to "
                                   f"move it to {platform}", field="platform",
                                   zh=f"渠道 {code} 属于 {before['platform']}，"
                                      f"如需改为 {platform} 请先删除")
            stored = dict(before["credentials"]) if before else {}
            merged = {**stored, **{k: v.strip() for k, v in data.credentials.items()}}
            missing = [k for k in PLATFORMS[platform] if k not in OPTIONAL and not merged.get(k)]
            if missing:
                raise InvalidInput(f"{platform} needs credentials.{missing[0]}",
                                   field=f"credentials.{missing[0]}",
                                   zh=f"{platform} 需要 credentials.{missing[0]}")
            values: JsonObject = {
                "platform": platform, "shop_id": data.shop_id.strip(), "region": region,
                "currency": currency, "base_url": base_url,
                "callback_url": data.callback_url.strip(), "credentials": merged,
                "pull_every_minutes": data.pull_every_minutes, "enabled": data.enabled}
            if "access_token" in data.credentials or before is None:
                values.update(access_token=merged.get("access_token", ""),
                              refresh_token=merged.get("refresh_token", ""),
                              token_expires_at=None, refresh_expires_at=None)
            created = store.put_account(code, values, now)
            row = store.account_row(code)
            assert row is not None
            audit_trail.record(uow, clock, "channel_account.put", subject_type="channel_account",
                               subject_id=code,
                               before=_settings(present(before)) if before else None,
                               after=_settings(present(row)))  # "set"/"missing", no secret
            return present(row), created

    return retrying(attempt)


def _check_urls(gateway: Gateway, default: Any, base_url: str, region: str,
                callback_url: str, shop_id: str) -> None:
    # A platform whose host is the shop's own (Shopify: {shop}.myshopify.com) says {shop}.
    target = base_url or str(default(region)).replace("{shop}", shop_id.removesuffix(
        ".myshopify.com"))
    if not target:
        raise InvalidInput("this platform has no fixed host: base_url (the shop's site) is "
                           "required", field="base_url",
                           zh="该平台没有固定地址：请填写店铺网站地址")
    try:
        gateway.check_url(target)
    except HostNotAllowed as refused:
        raise InvalidInput(f"base_url {target!r} is not allowed: {refused.message}",
                           field="base_url",
                           zh=f"店铺网站地址 {target} 不在出站白名单内：请联系系统管理员在"
                              "服务器设置的出站白名单中加入该地址") from None
    if callback_url and not re.match(r"^https?://[^\s/]+(/\S*)?$", callback_url.strip()):
        raise InvalidInput("callback_url must be an http(s) URL", field="callback_url",
                           zh="平台回调地址应为 http(s) 地址")


def present(row: Mapping[str, Any]) -> dict[str, Any]:
    """The account as the API shows it: which credentials are set, never their values."""
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    creds = row["credentials"] or {}
    return {
        "code": row["code"], "platform": row["platform"], "shop_id": row["shop_id"],
        "region": row["region"] or None, "currency": row["currency"] or None,
        "base_url": row["base_url"] or None, "callback_url": row["callback_url"] or None,
        "enabled": row["enabled"], "pull_every_minutes": row["pull_every_minutes"],
        "credentials": {k: ("set" if creds.get(k) else "missing")
                        for k in PLATFORMS.get(row["platform"], ())},
        "token_expires_at": iso(row["token_expires_at"]),
        "health": {
            "pull_watermark": iso(row["pull_watermark"]),
            "last_pull_at": iso(row["last_pull_at"]), "last_pull": row["last_pull"],
            "last_push_at": iso(row["last_push_at"]), "pushes_taken": row["pushes_taken"],
            "pushes_refused": row["pushes_refused"],
            "last_refused_at": iso(row["last_refused_at"]),
            "last_refusal": row["last_refusal"], "errors": row["errors"],
            "last_error_at": iso(row["last_error_at"]), "last_error": row["last_error"]},
        "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
    }


def get_account(code: str, uow_factory: UowFactory) -> dict[str, Any]:
    with uow_factory() as uow:
        row = uow.channels.account_row(code)
    if row is None:
        raise NotFound(f"no channel account {code!r}", field="code",
                       zh=f"没有渠道账号 {code!r}")
    return present(row)


def _settings(shown: dict[str, Any]) -> dict[str, Any]:
    """An account's settings as the audit trail keeps them: which credentials are set, never
    their values; no health counters."""
    return {k: v for k, v in shown.items() if k not in ("health", "created_at", "updated_at",
                                                        "token_expires_at")}


def list_accounts(uow_factory: UowFactory) -> list[dict[str, Any]]:
    with uow_factory() as uow:
        return [present(r) for r in uow.channels.account_rows()]


def delete_account(code: str, uow_factory: UowFactory, clock: Clock | None = None) -> None:
    with uow_factory() as uow:
        before = uow.channels.account_row(code)
        if not uow.channels.delete_account(code):
            raise NotFound(f"no channel account {code!r}", field="code",
                           zh=f"没有渠道账号 {code!r}")
        if clock is not None and before is not None:
            audit_trail.record(uow, clock, "channel_account.delete",
                               subject_type="channel_account", subject_id=code,
                               before=_settings(present(before)), after=None)
