"""渠道与系统 (Channels and systems): every shop with its health (last pull, pushes taken and
refused, errors, jobs, quarantine), the callback URL to paste into the platform, a connection
test, a pull, replaying quarantined orders; and the back-office systems with their state.
Admins add and change shops here too (secrets are written, never shown)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.views import channels as reads
from orderpilot.domain.channel_orders import PLATFORMS
from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import ChannelManager, ChannelOperator
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.services.channels import accounts, pull, tools

router = APIRouter(prefix="/console")
CAPABILITY_LABELS = {
    "order_source": N_("Orders in"), "status_feed": N_("Status reports"),
    "stock_source": N_("Stock levels"), "message_channel": N_("Messages"),
    "http_connector": N_("HTTP calls"), "rule_actions": N_("Rule actions"),
    "return_policy": N_("Return policy"), "invoice_provider": N_("Invoices")}


def _hook_url(request: Request, hub: HubDep, code: str) -> str:
    base = (hub.settings.public_url or str(request.base_url)).rstrip("/")
    return f"{base}/hooks/{code}"


def _page(request: Request, hub: HubDep, console: ConsoleDep, *, notice: str = "",
          result: dict[str, Any] | None = None, form: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, status: int = 200) -> Response:
    items = accounts.list_accounts(hub.uow)
    with hub.db.read() as conn:
        jobs = reads.job_counts(conn)
        held = {a["code"]: reads.quarantine(conn, a["code"], limit=20) for a in items}
    for item in items:
        item["jobs"] = jobs.get(item["code"], {})
        item["hook_url"] = item.get("callback_url") or _hook_url(request, hub, item["code"])
        item["quarantine"] = [q for q in held[item["code"]] if q["status"] == "held"]
    configured = hub.integrations.configured(hub.settings)
    systems = [{"name": i.name, "title_zh": i.title_zh, "title_en": i.title_en,
                "provides": sorted(i.provides), "configured": i.name in configured,
                "hint": i.setup_hint}
               for i in hub.integrations if i.channel is None]
    return console.render(request, "channels.html", {
        "nav": "channels", "items": items, "systems": systems, "notice": notice,
        "result": result, "platforms": PLATFORMS, "capabilities": CAPABILITY_LABELS,
        "form": form or {}, "errors": errors or {},
        "titles": {name: (p.title_zh, p.title_en)
                   for name, p in hub.channels.platforms().items()}}, status=status)


@router.get("/channels", name="console:channels")
def channels(request: Request, hub: HubDep, console: ConsoleDep,
             who: ChannelOperator) -> Response:
    return _page(request, hub, console)


@router.post("/channels/{code}/test", name="console:channel-test")
def test(request: Request, code: str, hub: HubDep, console: ConsoleDep,
         who: ChannelOperator) -> Response:
    try:
        result = tools.test_connection(code, hub.uow, hub.channels, hub.clock)
    except OrderpilotError as error:
        return console.error(request, console.say(request, error), 404)
    return _page(request, hub, console, result={"code": code, "kind": "test", **result})


@router.post("/channels/{code}/pull", name="console:channel-pull")
def pull_now(request: Request, code: str, hub: HubDep, console: ConsoleDep,
             who: ChannelOperator, hours: Annotated[int, Form()] = 24) -> Response:
    hours = min(max(hours, 1), 24 * 30)
    now = hub.clock()
    try:
        summary = pull.pull(code, now - timedelta(hours=hours), now, hub.uow, hub.channels,
                            hub.clock)
    except OrderpilotError as error:
        return console.error(request, console.say(request, error), 422)
    return _page(request, hub, console, result={"code": code, "kind": "pull",
                                                "ok": summary.error is None,
                                                **summary.as_json()})


@router.post("/channels/{code}/quarantine/{seq}/replay", name="console:channel-replay")
def replay(request: Request, code: str, seq: Annotated[int, Path(ge=1, le=2**62)],
           hub: HubDep, console: ConsoleDep, who: ChannelOperator) -> Response:
    try:
        done = tools.replay(code, seq, hub.uow, hub.channels, hub.clock)
    except OrderpilotError as error:
        return console.error(request, console.say(request, error), 409)
    notice = console.translate(request, "Replayed: the order is in.") \
        if not done["still_quarantined"] else console.translate(
            request, "Still cannot be mapped; the new reason is in the quarantine list.")
    return _page(request, hub, console, notice=notice)


@router.post("/channels", name="console:channel-save")
async def save(request: Request, hub: HubDep, console: ConsoleDep,
               who: ChannelManager) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    code = form.get("code", "").strip()
    platform = form.get("platform", "").strip()
    # Each platform's fieldset names its own inputs (cred_<platform>_<key>): only the chosen
    # platform's are read.
    credentials = {key: form[f"cred_{platform}_{key}"].strip()
                   for key in PLATFORMS.get(platform, ())
                   if form.get(f"cred_{platform}_{key}", "").strip()}
    try:
        minutes = int(form.get("pull_every_minutes") or 10)
    except ValueError:
        minutes = -1
    try:
        accounts.put_account(code, accounts.AccountInput(
            platform, form.get("shop_id", ""), form.get("region", ""),
            form.get("base_url", ""), form.get("callback_url", ""), form.get("currency", ""),
            credentials, minutes, True), hub.uow, hub.clock, hub.channels)
    except OrderpilotError as error:
        shown = {k: v for k, v in form.items() if not k.startswith("cred_")}
        return _page(request, hub, console, form=shown,
                     errors={error.field or "code": console.say(request, error)}, status=422)
    hub.channel_accounts.clear()
    return RedirectResponse(str(request.url_for("console:channels")) + f"#channel-{code}",
                            status_code=303)
