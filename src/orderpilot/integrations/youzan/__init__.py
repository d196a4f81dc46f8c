"""Youzan (有赞) Cloud open API: the company's WeChat mini-program shop as a sales channel.

Orders arrive by push (消息推送, verified with Event-Sign) and by pull (youzan.trades.sold.get
by update time, then youzan.trade.get per order); the buyer's encrypted fields are decrypted
with youzan.cloud.secret.decrypt.batch before mapping (decryption.py). After-sales requests
(维权, trade_refund_* pushes and youzan.trade.refund.search) become returns, and a refund at
the hub is paid with youzan.trade.refund.agree (refunds.py, refund_calls.py). Format facts and their
sources: mapping.py, client.py, decryption.py, push.py, signing.py; setup: docs/channels/youzan.md.
"""

from __future__ import annotations

from orderpilot.adapters.channels.base import ChannelPlatform, ReturnSupport
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.youzan import simulator
from orderpilot.integrations.youzan.client import client, default_base_url
from orderpilot.integrations.youzan.decryption import reveal
from orderpilot.integrations.youzan.mapping import map_order
from orderpilot.integrations.youzan.push import ACK, read_push, verify_push
from orderpilot.integrations.youzan.refunds import REASON_CODES, map_return
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
    "github.com/TsangJx/YouZanYunSDK API/Node/Trade/Refund/GetV3Data.cs, RefundNode.cs "
    "(youzan.trade.refund.get, .search; https://doc.youzanyun.com/detail/API/0/135)",
    "github.com/TsangJx/YouZanYunSDK Msg/TradeRefund*.cs (trade_refund_* messages, MSG/201-214)",
    "github.com/hesi726/youzan_CSharp youzan/com/youzan/push/PushMessage_TradeOrderRefund.cs",
    "github.com/nest-mods/youzan model/seller_refund/trade-refund-agree.d.ts, "
    "trade-returngoods-agree.d.ts",
)
# Reason codes that are one of our tags (refunds.py REASON_CODES; the others are classified
# from their words by the keyword table).
REASON_TAGS = {str(code): tags[0] for code, (_, tags) in REASON_CODES.items() if len(tags) == 1}

PLATFORM = ChannelPlatform(
    platform="youzan", title_zh="有赞（微信小程序商城）",
    title_en="Youzan (WeChat mini-program shop)",
    default_base_url=default_base_url, client=client, verify_push=verify_push,
    read_push=read_push, map_order=map_order, statuses=STATUSES, ack=ACK, fetch_batch=20,
    push_carries_order=False, region_currency={"": "CNY", "CN": "CNY"}, sources=SOURCES,
    sample_order=sample_order, reveal=reveal,
    returns=ReturnSupport(map_return=map_return, fetch_batch=20, refunds=True,
                          reason_tags=REASON_TAGS))

INTEGRATION = Integration(
    name="youzan", title_zh="有赞", title_en="Youzan", provides=frozenset({"order_source"}),
    settings=YouzanHostsSettings, configure=configure, origins=origins,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    channel=PLATFORM,
    setup_hint="add a channel account: PUT /api/v1/channels/{code} with platform youzan")
