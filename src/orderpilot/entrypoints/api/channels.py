"""/api/v1/channels: shops on Shopee, Lazada, TikTok Shop, Shopify, WooCommerce and Youzan."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from orderpilot.adapters.views import channels as read_models
from orderpilot.entrypoints.api.deps import CanManageChannels, CanOperateChannels, HubDep
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services.channels import accounts, pull, return_jobs, tools

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
Code = Annotated[str, Path(max_length=64)]


class ChannelIn(Strict):
    platform: str = Field(max_length=32, description="shopee, lazada, tiktok, shopify, "
                                                     "woocommerce or youzan")
    shop_id: str = Field(max_length=64, description="The platform's shop id (Shopify: the "
                                                    "myshopify subdomain)")
    region: str = Field("", max_length=8, description="SG, MY, TH... (Shopee, Lazada, TikTok)")
    base_url: str = Field("", max_length=500,
                          description="Overrides the platform's host (sandbox, tests)")
    callback_url: str = Field("", max_length=500,
                              description="The push URL as set on the platform (Shopee signs "
                                          "over it); default <public_url>/hooks/<code>")
    currency: str = Field("", max_length=3, description="The shop's currency; default: the "
                                                        "region's")
    credentials: dict[str, str] = Field(default_factory=dict,
                                        description="Keys as the platform names them; a key "
                                                    "left out keeps its stored value")
    pull_every_minutes: int = Field(10, ge=0, le=1440,
                                    description="Scheduled catch-up pull; 0 = off")
    enabled: bool = True


class PullIn(Strict):
    since: datetime
    until: datetime | None = None


def _hook_url(request: Request, hub: HubDep, code: str) -> str:
    base = (hub.settings.public_url or str(request.base_url)).rstrip("/")
    return f"{base}/hooks/{code}"


def _shown(request: Request, hub: HubDep, account: dict[str, Any]) -> dict[str, Any]:
    account["hook_url"] = account.get("callback_url") or _hook_url(request, hub,
                                                                   account["code"])
    return account


@router.get("", summary="Every channel account with its health (secrets never shown)")
def list_channels(request: Request, hub: HubDep, who: CanOperateChannels) -> dict[str, Any]:
    items = accounts.list_accounts(hub.uow)
    with hub.db.read() as conn:
        jobs = read_models.job_counts(conn)
    for item in items:
        item["jobs"] = jobs.get(item["code"], {})
        _shown(request, hub, item)
    return {"items": items}


@router.get("/platforms", summary="The platforms this hub speaks: credential keys, statuses")
def platforms(hub: HubDep, who: CanOperateChannels) -> dict[str, Any]:
    return {"items": read_models.platforms(hub.channels)}


@router.get("/{code}", summary="One channel account (secrets never shown)")
def get_channel(request: Request, code: Code, hub: HubDep,
                who: CanOperateChannels) -> dict[str, Any]:
    return _shown(request, hub, accounts.get_account(code, hub.uow))


@router.put("/{code}", summary="Create or change a channel account",
            description="Credentials are written, never read back. A key left out keeps its "
                        "stored value. base_url must pass the outbound allow-list.")
def put_channel(request: Request, code: Code, body: ChannelIn, hub: HubDep,
                who: CanManageChannels) -> JSONResponse:
    shown, created = accounts.put_account(code, accounts.AccountInput(
        body.platform, body.shop_id, body.region, body.base_url, body.callback_url,
        body.currency, body.credentials, body.pull_every_minutes, body.enabled),
        hub.uow, hub.clock, hub.channels)
    hub.channel_accounts.clear()
    return JSONResponse(_shown(request, hub, shown), status_code=201 if created else 200)


@router.delete("/{code}", status_code=204, summary="Delete a channel account (its orders stay)")
def delete_channel(code: Code, hub: HubDep, who: CanManageChannels) -> None:
    accounts.delete_account(code, hub.uow, hub.clock)
    hub.channel_accounts.clear()


@router.post("/{code}/pull", summary="Pull orders (and returns) updated in [since, until) now",
             description="Backfill or catch up by update time; answers with a summary when "
                         "done. The watermark moves only over a gap-free window. When the "
                         "platform brings returns they are pulled over the same window "
                         "(``returns``: their summary, else null).")
def pull_channel(code: Code, body: PullIn, hub: HubDep,
                 who: CanOperateChannels) -> dict[str, Any]:
    until = body.until or hub.clock()
    summary = pull.pull(code, body.since, until, hub.uow, hub.channels, hub.clock).as_json()
    return summary | {"returns": return_jobs.pull_returns_too(
        code, body.since, until, hub.uow, hub.channels, hub.clock)}


@router.post("/{code}/test", summary="Connection test: one authenticated call to the platform")
def test_channel(code: Code, hub: HubDep, who: CanOperateChannels) -> dict[str, Any]:
    return tools.test_connection(code, hub.uow, hub.channels, hub.clock)


@router.get("/{code}/quarantine", summary="Platform orders that could not be mapped")
def quarantine(code: Code, hub: HubDep, who: CanOperateChannels) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"items": read_models.quarantine(conn, code)}


@router.post("/{code}/quarantine/{seq}/replay",
             summary="Map a quarantined order again (after a mapping fix) and apply it")
def replay(code: Code, seq: Annotated[int, Path(ge=1, le=2**62)], hub: HubDep,
           who: CanOperateChannels) -> dict[str, Any]:
    return tools.replay(code, seq, hub.uow, hub.channels, hub.clock)
