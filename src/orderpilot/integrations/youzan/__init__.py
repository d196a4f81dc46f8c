"""Youzan (有赞) Cloud open API: the company's WeChat mini-program shop as a sales channel.

Orders arrive by push (消息推送, verified with Event-Sign) and by pull (youzan.trades.sold.get
by update time, then youzan.trade.get per order); the buyer's encrypted fields are decrypted
with youzan.cloud.secret.decrypt.batch before mapping (decryption.py). Format facts and their
sources: mapping.py, client.py, decryption.py, push.py, signing.py; setup: docs/channels/youzan.md.
"""

from __future__ import annotations

from orderpilot.adapters.channels.base import ChannelPlatform
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.youzan import simulator
from orderpilot.integrations.youzan.client import client, default_base_url
from orderpilot.integrations.youzan.decryption import reveal
from orderpilot.integrations.youzan.mapping import map_order
from orderpilot.integrations.youzan.push import ACK, read_push, verify_push
from orderpilot.integrations.youzan.settings import YouzanHostsSettings, configure, origins
from orderpilot.integrations.youzan.sim_orders import sample_order
from orderpilot.integrations.youzan.statuses import STATUSES

SOURCES = (
    "https://doc.youzanyun.com/detail/API/0/71 (youzan.trade.get)",
    "https://doc.youzanyun.com/detail/API/0/3887 (youzan.trades.sold.get 4.0.4)",
    "https://doc.youzanyun.com/detail/MSG/300 /302 /199 /200 /201 (trade messages)",
    "https://doc.youzanyun.com/resource/doc/3032 (push signature)",
    "https://bbs.youzan.com/thread-699870-1-1.html (Event-Sign = MD5(client_id+body+secret))",
    "github.com/youzan/open-sdk-php src/Open/Token.php, src/Open/Config/HttpConfig.php",
    "github.com/youzan/open-sdk-node src/token.js",
    "github.com/waywake/youzan-sdk-ts src/api-types/youzan-trades-sold-get-v404.ts",
    "github.com/TsangJx/YouZanYunSDK Msg/*.cs (push fields, retries)",
    "github.com/zedisdog/youzanphp tests/TradeTest.php (a real trade.get answer)",
    "github.com/inNovationGG/petnote_admin_server test.js (encrypted receiver fields)",
    "github.com/cesing/youzanyun-doc docs/guide/encryption.md (ciphertext fields)",
    "github.com/inNovationGG/petnote_admin_server services/youzanService.js "
    "(youzan.cloud.secret.decrypt.batch: sources, at most 10000)",
    "https://doc.youzanyun.com/detail/content/API/0/2630 (decrypt with the same app + shop)",
)

PLATFORM = ChannelPlatform(
    platform="youzan", title_zh="有赞（微信小程序商城）",
    title_en="Youzan (WeChat mini-program shop)",
    default_base_url=default_base_url, client=client, verify_push=verify_push,
    read_push=read_push, map_order=map_order, statuses=STATUSES, ack=ACK, fetch_batch=20,
    push_carries_order=False, region_currency={"": "CNY", "CN": "CNY"}, sources=SOURCES,
    sample_order=sample_order, reveal=reveal)

INTEGRATION = Integration(
    name="youzan", title_zh="有赞", title_en="Youzan", provides=frozenset({"order_source"}),
    settings=YouzanHostsSettings, configure=configure, origins=origins,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    channel=PLATFORM,
    setup_hint="add a channel account: PUT /api/v1/channels/{code} with platform youzan")
