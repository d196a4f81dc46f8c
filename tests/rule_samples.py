"""Rules as staff built them before the named customs action: S4 with a generic HTTP call
and per-step `if`s (still a valid rule, and what the console's form tests rebuild)."""

from __future__ import annotations

from typing import Any

NOT_QUALIFIED = {"all": [{"field": "steps.check.qualified", "op": "is_false", "type": "bool"}]}

S4_BY_HTTP_CALL: dict[str, Any] = {
    "name": "保税区大额订单资质核验",
    "description": "S4: bonded-zone orders over 500 need a qualified buyer",
    "trigger": {"kind": "event", "event": "payment.succeeded", "sources": ["youzan"]},
    "conditions": {"all": [
        {"field": "order.total", "op": "gt", "value": 500},
        {"field": "order.address.flags", "op": "has", "value": "bonded_zone"}]},
    "actions": [
        {"id": "check", "type": "http.call",
         "params": {"method": "POST", "connector": "customs",
                    "path": "/api/qualification/check",
                    "body": {"phone": "{{ order.customer.phone }}",
                             "name": "{{ order.customer.name }}",
                             "order_id": "{{ order.id }}"},
                    "output": {"qualified": "qualified", "reference": "reference"}},
         "on_error": {"retries": 5, "backoff_seconds": 10, "then": "fail"}},
        {"id": "freeze", "type": "order.hold", "if": NOT_QUALIFIED,
         "params": {"reason": "qualification_pending",
                    "note": "海关资质待核验 {{ steps.check.reference }}"}},
        {"id": "notify", "type": "sms.send", "if": NOT_QUALIFIED,
         "params": {"template": "SMS_QUAL_UPLOAD",
                    "params": {"order_no": "{{ order.external_id }}"}}},
        {"id": "ticket", "type": "ticket.create", "if": NOT_QUALIFIED,
         "params": {"title": "资质待核验 {{ order.external_id }}",
                    "body": "买家 {{ order.customer.name }} 未通过海关资质核验,"
                            "已冻结订单并短信通知上传营业执照。",
                    "priority": "high", "tags": ["资质待核验"]}}]}
