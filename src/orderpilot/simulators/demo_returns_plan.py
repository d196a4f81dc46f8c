"""The demo company's returns (issue 13): its carriers and their outlets (网点), its three
return centres and the return policy that maps the outlets to them, and what a buyer asks
for when they return a parcel (which lines, why, the address they type). Pure: the same
random draws give the same returns; the history (demo_history_plan.py) and the live stream
(demo_company.py) both plan from here.

Waybill numbers are made up in each carrier's usual look (SF ``SF`` + 13 digits, JD Logistics
``JDV`` + 12 digits, ZTO 12 digits starting 7); nothing checks them but the shape.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

# carrier (as the shipments table names it) -> the source that reports its scans
CARRIER_SOURCE = {"sf": "sf", "jd": "jdl", "zto": "zto"}
CARRIER_SOURCES = tuple(CARRIER_SOURCE.values())
CARRIER_WEIGHTS = {"sf": 0.5, "jd": 0.2, "zto": 0.3}

CENTRES: dict[str, dict[str, Any]] = {
    "YIWU": {"name_zh": "义乌退货中心", "name_en": "Yiwu return centre", "phone": "0579-85551278",
             "address": {"country": "CN", "province": "浙江省", "city": "金华市",
                         "district": "义乌市", "line1": "稠江街道杨村路288号海豚跨境退货仓",
                         "postal_code": "322000"}},
    "KUNSHAN": {"name_zh": "昆山退货中心", "name_en": "Kunshan return centre",
                "phone": "0512-57706021",
                "address": {"country": "CN", "province": "江苏省", "city": "苏州市",
                            "district": "昆山市", "line1": "花桥镇商务大道99号B栋退货组",
                            "postal_code": "215332"}},
    "GUANGZHOU": {"name_zh": "广州退货中心", "name_en": "Guangzhou return centre",
                  "phone": "020-36058755",
                  "address": {"country": "CN", "province": "广东省", "city": "广州市",
                              "district": "白云区", "line1": "太和镇龙归物流园3号库",
                              "postal_code": "510450"}},
}

# Each carrier's outlets that deliver the demo's parcels -> the centre the policy names (None:
# the policy has no row for that outlet, so its returns need a person).
OUTLETS: dict[str, dict[str, str | None]] = {
    "sf": {"SF-0278": "YIWU", "SF-0571": "YIWU", "SF-0512": "KUNSHAN", "SF-0021": "KUNSHAN",
           "SF-0020": "GUANGZHOU", "SF-0755": "GUANGZHOU", "SF-0028": None},
    "jd": {"JD-HZ031": "YIWU", "JD-SH105": "KUNSHAN", "JD-SZ207": "GUANGZHOU",
           "JD-CD330": None},
    "zto": {"ZTO-57101": "YIWU", "ZTO-02188": "KUNSHAN", "ZTO-75506": "GUANGZHOU",
            "ZTO-02766": None},
}
POLICY = {outlet: centre for outlets in OUTLETS.values()
          for outlet, centre in outlets.items() if centre is not None}
UNLISTED_SHARE = 0.08  # parcels from the one outlet per carrier the policy does not list yet
NO_OUTLET_SHARE = 0.08  # JD / ZTO scans that name no outlet (SF is asked for it instead)
# The addresses buyers type that are not the right centre's: the office and an old warehouse.
OLD_ADDRESSES = (
    {"country": "CN", "province": "浙江省", "city": "宁波市", "district": "鄞州区",
     "line1": "天童南路588号宁波商会国贸中心A座1201（海豚跨境办公室）", "postal_code": "315100"},
    {"country": "CN", "province": "浙江省", "city": "宁波市", "district": "北仑区",
     "line1": "保税区港东大道7号（旧仓库，已停用）", "postal_code": "315800"},
)
TYPED_RIGHT_SHARE = 0.59  # the seed's baseline: 59% of returns reached the right centre

# What buyers say: either a tag the platform's form gave, or only free text the hub classifies
# with its keyword table (domain/return_reasons.py DEFAULT_KEYWORDS) through jieba.
REASON_TAGS = ("damaged_packaging", "wrong_item", "quality_issue", "no_reason_7_days",
               "wrong_size", "not_as_described")
REASON_TEXTS = ("盒子压坏了，奶粉罐也凹了", "发错货了，我买的是L码", "湿巾有异味，质量不行",
                "七天无理由退货", "尺码偏小，宝宝穿不下", "收到少件，漏发了一包",
                "物流太慢，已经在别家买了", "拍错了，不想要了", "奶粉临期，不敢给宝宝喝",
                "和图片描述不符，色差很大", "外包装破损，漏液了", "宝宝不喜欢这个味道")
TEXT_SHARE = 0.5  # returns that come with free text only


@dataclass(frozen=True)
class Shipped:
    carrier: str
    source: str
    tracking_number: str
    outlet_code: str | None

    def data(self) -> dict[str, Any]:
        """``shipment.shipped`` data as the hub reads it (outlet_code only when scanned)."""
        found = {"carrier": self.carrier, "tracking_number": self.tracking_number}
        return found | ({"outlet_code": self.outlet_code} if self.outlet_code else {})


def share(key: str) -> float:
    """A stable number in [0, 1) for KEY, to decide without drawing from a script's RNG."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 16**8


def shipment(rng: random.Random, key: str) -> Shipped:
    """A carrier, a waybill and the outlet that delivers it; the outlet comes from KEY (the
    order's number) so the caller's other draws stay what they were."""
    carrier = rng.choices(tuple(CARRIER_WEIGHTS), weights=tuple(CARRIER_WEIGHTS.values()))[0]
    digits = rng.randrange(10**13)
    number = {"sf": f"SF{digits:013d}", "jd": f"JDV{digits % 10**12:012d}",
              "zto": f"7{digits % 10**11:011d}"}[carrier]
    listed = sorted(o for o, c in OUTLETS[carrier].items() if c is not None)
    unlisted = sorted(o for o, c in OUTLETS[carrier].items() if c is None)
    roll = share(f"outlet:{key}")
    outlet: str | None = unlisted[0] if roll < UNLISTED_SHARE else \
        listed[int(share(f"listed:{key}") * len(listed))]
    if carrier != "sf" and share(f"no-outlet:{key}") < NO_OUTLET_SHARE:
        outlet = None
    return Shipped(carrier, CARRIER_SOURCE[carrier], number, outlet)


def request(rng: random.Random, body: dict[str, Any], shipped: Shipped,
            key: str) -> dict[str, Any]:
    """What the buyer asks for: some or all of the lines (partial returns are common), a reason
    (a tag, or free text only), the address they typed (the right centre's in about 59% of the
    routable returns, else the office, an old warehouse or their own)."""
    lines = [ln for ln in body["lines"] if rng.random() < 0.7] or [body["lines"][0]]
    wanted = [{"sku": ln["sku"], "quantity": rng.randint(1, int(ln["quantity"]))}
              for ln in lines]
    if rng.random() < TEXT_SHARE:
        tags: list[str] = []
        text = rng.choice(REASON_TEXTS)
    else:
        tags, text = [rng.choice(REASON_TAGS)], ""
    centre = POLICY.get(shipped.outlet_code or "")
    roll = share(f"typed:{key}")
    if centre and roll < TYPED_RIGHT_SHARE:
        typed = dict(CENTRES[centre]["address"])
    elif roll < 0.9:
        typed = dict(OLD_ADDRESSES[int(share(f"old:{key}") * len(OLD_ADDRESSES))])
    else:
        typed = {k: str(v) for k, v in body["shipping_address"].items()}
    return {"lines": wanted, "reason_tags": tags, "reason_text": text,
            "customer_address": typed}


def inspection(wanted: list[dict[str, Any]], key: str) -> dict[str, list[int]]:
    """The warehouse's verdict per SKU: [restockable, damaged]; about one unit in eight
    arrives damaged."""
    verdict = {}
    for i, line in enumerate(wanted):
        units = int(line["quantity"])
        damaged = sum(1 for u in range(units) if share(f"damaged:{key}:{i}:{u}") < 0.125)
        verdict[str(line["sku"])] = [units - damaged, damaged]
    return verdict
