"""Every API error says what is wrong in English (message) and in Chinese (message_zh), whatever
the request's Accept-Language (the console side: test_console_rules.py)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import order_body


def test_an_api_error_carries_both_languages(api: Any) -> None:
    r = api.post("/api/v1/orders", json=order_body(total="1.00"))
    error = r.json()["error"]
    assert r.status_code == 422 and error["field"] == "total"
    assert "does not match" in error["message"]
    assert "与各行合计不符" in error["message_zh"]
    missing = api.get("/api/v1/orders/no-such-order", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing.json()["error"] == {"code": "not_found", "field": "id",
                                       "message": "no order with id no-such-order",
                                       "message_zh": "订单 no-such-order 不存在"}
    body = order_body()
    del body["channel"]
    invalid = api.post("/api/v1/orders", json=body).json()["error"]
    assert invalid["code"] == "invalid_input" and invalid["message_zh"] == "channel：必填"
    assert invalid["details"][0]["message_zh"] == "必填"


def test_rule_problems_go_out_in_both_languages(client: TestClient) -> None:
    rule = {"name": "x", "trigger": {"kind": "event", "event": "no.such.event"},
            "conditions": {"all": []},
            "actions": [{"id": "sms", "type": "sms.send",
                         "params": {"template": "SMS_NOT_THERE", "phone": "13800000000"}}]}
    r = client.post("/api/v1/rules/validate", json=rule)
    assert r.status_code == 422
    details = {d["field"]: d for d in r.json()["error"]["details"]}
    event = details["trigger.event"]
    assert event["message"] == "unknown event 'no.such.event'; pick one from the list"
    assert event["message_zh"] == "未知事件 'no.such.event'，请从列表中选择"
    sms = details["actions[0].params.template"]
    assert "is not registered" in sms["message"] and "未登记" in sms["message_zh"]

