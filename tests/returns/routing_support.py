"""Shared steps of the return-routing tests: centres and policy through the API, an order
shipped by a carrier, a return requested through the events API (the data the returns
service emits, RETURNS_COMMON.md)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from conftest import order_body

YIWU = {"name_zh": "义乌退货中心", "name_en": "Yiwu return centre",
        "address": {"country": "CN", "province": "浙江省", "city": "金华市",
                    "district": "义乌市", "line1": "稠江街道退货路88号",
                    "postal_code": "322000"},
        "phone": "057985550000"}
NINGBO = {"name_zh": "宁波退货中心", "name_en": "Ningbo return centre",
          "address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                      "district": "北仑区", "line1": "保税东区港城大道1号",
                      "postal_code": "315800"},
          "phone": "057486860000"}
TYPED = {"country": "CN", "province": "广东省", "city": "深圳市", "district": "南山区",
         "line1": "买家随手写的旧仓库地址 1 号", "postal_code": "518000"}


def set_up_policy(client: TestClient) -> None:
    for code, body in (("YIWU", YIWU), ("NINGBO", NINGBO)):
        r = client.put(f"/api/v1/return-centres/{code}", json=body)
        assert r.status_code == 200, r.text
    r = client.put("/api/v1/return-policy", json={"rows": [
        {"outlet_code": "SF-0278", "return_centre": "YIWU"},
        {"outlet_code": "SF-0100", "return_centre": "NINGBO"}]})
    assert r.status_code == 200, r.text


def shipped_order(client: TestClient, external_id: str, phone: str,
                  shipped: dict[str, Any] | None) -> str:
    body = order_body(external_id, customer={"name": "王小明", "phone": phone})
    order_id: str = client.post("/api/v1/orders", json=body).json()["id"]
    steps = [("payment.succeeded", "shopee", {}), ("wms.released", "wms", {})]
    if shipped is not None:
        steps.append(("shipment.shipped", "sf", shipped))
    for n, (kind, source, data) in enumerate(steps):
        r = client.post(f"/api/v1/orders/{order_id}/events", json={
            "type": kind, "source": source, "source_event_id": f"{external_id}-{n}",
            "occurred_at": f"2026-11-27T1{n}:00:00+08:00", "data": data})
        assert r.status_code in (200, 201), r.text
    return order_id


def request_return(client: TestClient, order_id: str, address: Any = TYPED) -> str:
    return_id = str(uuid.uuid4())
    r = client.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "return.requested", "source": "shopee", "source_event_id": f"ret-{return_id}",
        "occurred_at": "2026-11-28T10:00:00+08:00",
        "data": {"return_id": return_id, "lines": [{"sku": "DIAPER-L", "quantity": 1}],
                 "reason_tags": ["尺码不符"], "reason_text": "尺码偏小",
                 "customer_address": address}})
    assert r.status_code in (200, 201), r.text
    return return_id


def rule_holds(client: TestClient, order_id: str) -> list[tuple[str, str]]:
    holds = client.get(f"/api/v1/orders/{order_id}").json()["holds"]
    return [(h["reason"], h.get("note") or "") for h in holds if h["placed_by_kind"] == "rule"]
