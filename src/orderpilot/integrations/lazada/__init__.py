"""Lazada Open Platform (来赞达): orders from Lazada shops in SG, MY, TH, ID, PH and VN, by push
(Lazada Push Mechanism) and by pull (GetOrders by update time). See docs/channels/lazada.md."""

from __future__ import annotations

from orderpilot.adapters.channels.base import ChannelPlatform, HookAnswer, ReturnSupport
from orderpilot.config import Settings
from orderpilot.integrations.lazada import simulator
from orderpilot.integrations.lazada.client import LazadaClient
from orderpilot.integrations.lazada.hosts import (
    API_HOSTS,
    LazadaHosts,
    default_base_url,
    hosts_of,
)
from orderpilot.integrations.lazada.mapping import REGION_CURRENCY, map_order
from orderpilot.integrations.lazada.push import read_push, verify_push
from orderpilot.integrations.lazada.returns import REASON_TAGS, map_return
from orderpilot.integrations.lazada.sample import sample_order
from orderpilot.integrations.lazada.statuses import STATUS_ROWS
from orderpilot.integrations.registry import Integration, Simulator, sim_base

SOURCES = (
    "https://open.lazada.com/apps/doc/doc?nodeId=10450&docId=108068",  # request signature
    "https://open.alitrip.com/docs/doc.htm?articleId=108069&docType=1&treeId=499",  # example
    "https://open.lazada.com/apps/doc/api?path=%2Forders%2Fget",
    "https://open.lazada.com/apps/doc/api?path=%2Forder%2Fget",
    "https://open.lazada.com/apps/doc/api?path=%2Forder%2Fitems%2Fget",
    "https://open.lazada.com/apps/doc/api?path=%2Forders%2Fitems%2Fget",
    "https://open.alitrip.com/docs/doc.htm?articleId=121327&docType=1&treeId=499",  # paging
    "https://open.lazada.com/apps/doc/doc?nodeId=10777&docId=108260",  # tokens, auth host
    "https://open.lazada.com/apps/doc/doc?nodeId=29526&docId=120168",  # push mechanism
    "https://open.lazada.com/apps/doc/doc?nodeId=29538&docId=120196",  # trade order push
    "https://open.alitrip.com/docs/doc.htm?articleId=119493&docType=1&treeId=735",  # push sign
    "https://open.alitrip.com/docs/doc.htm?articleId=108138&docType=1&treeId=499",  # errors
    "https://open.lazada.com/apps/doc/api?path=%2Freverse%2Fgetreverseordersforseller",
    "https://open.lazada.com/apps/doc/api?path=%2Forder%2Freverse%2Freturn%2Fdetail%2Flist",
    "https://open.lazada.com/apps/doc/api?path=%2Forder%2Freverse%2Freturn%2Fupdate",
)


PLATFORM = ChannelPlatform(
    platform="lazada", title_zh="来赞达 Lazada", title_en="Lazada",
    default_base_url=default_base_url, client=LazadaClient, verify_push=verify_push,
    read_push=read_push, map_order=map_order, statuses=STATUS_ROWS,
    ack=HookAnswer(200, b"", "text/plain"), fetch_batch=50, push_carries_order=False,
    region_currency=REGION_CURRENCY, sources=SOURCES, sample_order=sample_order,
    returns=ReturnSupport(map_return=map_return, fetch_batch=20, push_carries_return=False,
                          refunds=True, reason_tags=REASON_TAGS))


def configure(settings: Settings) -> LazadaHosts:
    """The documented production hosts (each shop is a channel account); the simulator's
    /lazada instead when the hub points at the simulators (ORDERPILOT_SIM_URL), so the
    outbound allow-list lets only the simulator through, as for every other system."""
    sim = sim_base(settings)
    if sim:
        return LazadaHosts(api_hosts={region: f"{sim}/lazada" for region in API_HOSTS},
                           auth_url=f"{sim}/lazada")
    return LazadaHosts()


INTEGRATION = Integration(
    name="lazada", title_zh="来赞达 Lazada", title_en="Lazada Open Platform",
    provides=frozenset({"order_source"}), settings=LazadaHosts, configure=configure,
    origins=hosts_of,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    channel=PLATFORM,
    setup_hint="add a channel account: PUT /api/v1/channels/{code} with platform lazada")
