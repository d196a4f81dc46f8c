"""The rule template library: ready-made rules with stable ids, in zh-CN and English, each
with a few blanks (questions) whose answers fill its definition."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from orderpilot.domain.intake import CHANNELS, CURRENCIES
from orderpilot.domain.rules.problems import Problems

Path = tuple[str | int, ...]  # where in the definition: ("conditions", "all", 0, "value")


@dataclass(frozen=True)
class Blank:
    """A question the gallery asks; the answer goes to each of TARGETS in the definition
    (a ``source`` answer becomes a one-item list)."""

    id: str
    zh: str
    en: str
    kind: str  # number | currency | source | text
    default: Any
    targets: tuple[Path, ...]

    @property
    def choices(self) -> tuple[str, ...]:
        return {"currency": CURRENCIES, "source": CHANNELS}.get(self.kind, ())

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "zh": self.zh, "en": self.en, "kind": self.kind,
                "default": self.default, "choices": list(self.choices)}

    def check(self, value: Any, where: str, problems: Problems) -> Any:
        if self.kind == "number":
            try:
                number = Decimal(str(value).strip())
            except (InvalidOperation, ValueError):
                number = Decimal(-1)
            if isinstance(value, bool) or not number.is_finite() or not 0 <= number <= 10**9:
                problems.add(where, f"{self.en}: a number from 0 to 1000000000",
                             f"{self.zh}：应为 0 到 1000000000 之间的数字")
                return self.default
            return int(number) if number == number.to_integral_value() else float(number)
        if self.choices and value not in self.choices:
            problems.add(where, f"{self.en}: one of {', '.join(self.choices)}",
                         f"{self.zh}：应为以下之一：{'、'.join(self.choices)}")
            return self.default
        if not isinstance(value, str) or not 0 < len(value.strip()) <= 200:
            problems.add(where, f"{self.en}: 1 to 200 characters of text",
                         f"{self.zh}：应为 1 到 200 个字符")
            return self.default
        return value.strip()


@dataclass(frozen=True)
class SmsTemplate:
    code: str
    provider: str
    sign_name: str
    text: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class RuleTemplate:
    id: str
    zh: str
    en: str
    summary_zh: str
    summary_en: str
    story: str  # the brief's scenario code
    skeleton: dict[str, Any]  # the definition before the blanks are filled
    sms: tuple[SmsTemplate, ...] = field(default=())
    blanks: tuple[Blank, ...] = ()

    @property
    def definition(self) -> dict[str, Any]:
        """The definition with every blank at its default."""
        return self.fill({})

    def fill(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The definition with ANSWERS (blank id -> value; missing ones take the default);
        raises RuleInvalid naming ``answers.<id>`` for a bad or unknown answer."""
        problems = Problems()
        known = {b.id: b for b in self.blanks}
        for name in sorted(set(answers) - set(known)):
            problems.add(f"answers.{name}", f"this template asks no {name!r}; it asks "
                                            f"{', '.join(known) or 'nothing'}",
                         f"此模板没有问题 {name!r}；可填：{'、'.join(known) or '无'}")
        definition = copy.deepcopy(self.skeleton)
        for blank in self.blanks:
            raw = answers.get(blank.id)
            value = blank.default if raw is None or raw == "" else \
                blank.check(raw, f"answers.{blank.id}", problems)
            for target in blank.targets:
                _put(definition, target, [value] if blank.kind == "source" else value)
        problems.raise_if_any("the template")
        return definition


def _put(document: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


QUALIFICATION_SMS = SmsTemplate(
    "SMS_QUAL_UPLOAD", "aliyun", "保税优选",
    "您的订单${order_no}需核验购买资质,请上传营业执照副本照片至小程序-我的订单-资质补传",
    ("order_no",))
PAYMENT_REMINDER_SMS = SmsTemplate(
    "SMS_PAY_REMIND", "aliyun", "保税优选",
    "您的订单${order_no}尚未付款,超时将自动取消,请尽快完成支付", ("order_no",))
RETURN_PICKUP_SMS = SmsTemplate(
    "SMS_RETURN_PICKUP", "aliyun", "保税优选",
    "您的退货请寄往${centre}:${address}。快递员将于${window}上门取件,无需自行填写地址。",
    ("centre", "address", "window"))
ADDRESS_CONFIRM_SMS = SmsTemplate(
    "SMS_ADDR_CONFIRM", "aliyun", "保税优选",
    "您的订单${order_no}收货地址需要确认,请在小程序-我的订单中确认或补全地址,以免延误发货。",
    ("order_no",))
DEFAULT_SMS_TEMPLATES = (QUALIFICATION_SMS, PAYMENT_REMINDER_SMS, RETURN_PICKUP_SMS)
RETURN_HOLD = "return_decision_required"


def _amount_blanks(default: int, leaf: Path, zh: str = "金额超过",
                   en: str = "Amount over") -> tuple[Blank, ...]:
    """The amount of the condition at LEAF, and its currency."""
    return (Blank("amount", zh, en, "number", default, (leaf + ("value",),)),
            Blank("currency", "币种", "Currency", "currency", "CNY", (leaf + ("currency",),)))


TEMPLATES: tuple[RuleTemplate, ...] = (
    RuleTemplate(
        "bonded-zone-customs-check", "保税区大额订单资质核验", "Bonded-zone customs check",
        "小程序支付成功、金额>500且收货地址在保税区:调用海关备案服务核验买家资质;"
        "未通过则冻结订单、短信通知上传营业执照、创建高优先级客服工单(资质待核验)。",
        "Mini-program payment over 500 to a bonded-zone address: check the buyer's "
        "qualification with the customs filing service; if not qualified, hold the order, "
        "text the buyer to upload the business licence, open a high-priority ticket.",
        "S4",
        {"name": "保税区大额订单资质核验",
         "description": "S4：保税区 500 元以上的订单须核验买家资质",
         "trigger": {"kind": "event", "event": "payment.succeeded", "sources": ["youzan"]},
         "conditions": {"all": [
             {"field": "order.total", "op": "gt", "value": 500, "currency": "CNY"},
             {"field": "order.address.flags", "op": "has", "value": "bonded_zone"}]},
         "actions": [
             {"id": "check", "type": "customs.check_qualification", "params": {},
              "on_error": {"retries": 5, "backoff_seconds": 10, "then": "fail"},
              "on_outcome": {"not_qualified": [
                  {"id": "freeze", "type": "order.hold",
                   "params": {"reason": "qualification_pending",
                              "note": "海关资质待核验 {{ steps.check.reference }}"}},
                  {"id": "notify", "type": "sms.send",
                   "params": {"template": "SMS_QUAL_UPLOAD",
                              "params": {"order_no": "{{ order.external_id }}"}}},
                  {"id": "ticket", "type": "ticket.create",
                   "params": {"title": "资质待核验 {{ order.external_id }}",
                              "body": "买家 {{ order.customer.name }} 未通过海关资质核验,"
                                      "已冻结订单并短信通知上传营业执照。",
                              "priority": "high", "tags": ["资质待核验"]}}]}}]},
        (QUALIFICATION_SMS,), _amount_blanks(500, ("conditions", "all", 0)) + (
            Blank("channel", "销售渠道", "Sales channel", "source", "youzan",
                  (("trigger", "sources"),)),)),
    RuleTemplate(
        "support-contact-vip", "下单后2小时内咨询客服:标记VIP并建工单",
        "Contacted support within 2 hours of ordering: VIP tag and ticket",
        "客户在下单后2小时内联系客服:客户与订单打VIP标签,并创建客服工单跟进。",
        "A customer who contacts support within 2 hours of ordering gets a VIP tag "
        "(customer and order) and a service ticket.",
        "S14",
        {"name": "下单后2小时内咨询客服", "description": "S14：下单后很快咨询的买家优先跟进",
         "trigger": {"kind": "event", "event": "customer.contacted"},
         "conditions": {"all": [
             {"field": "order.placed_at", "op": "within_last_minutes", "value": 120}]},
         "actions": [
             {"id": "vip", "type": "crm.tag", "params": {"tags": ["VIP"], "push": True}},
             {"id": "mark", "type": "order.tag", "params": {"tags": ["VIP"]}},
             {"id": "ticket", "type": "ticket.create",
              "params": {"title": "VIP客户咨询 {{ order.external_id }}",
                         "body": "客户下单后2小时内联系客服,请优先跟进。",
                         "priority": "high", "tags": ["VIP", "下单后咨询"]}}]}),
    RuleTemplate(
        "high-value-review", "大额订单人工复核", "High-value order review",
        "支付金额≥5000的订单先冻结,创建复核工单,复核后人工解冻。",
        "Orders paid at 5,000 or more are held for review with a ticket; "
        "a person releases them.",
        "S4",
        {"name": "大额订单人工复核", "description": "大额订单履约前人工复核",
         "trigger": {"kind": "event", "event": "payment.succeeded"},
         "conditions": {"all": [{"field": "order.total", "op": "gte", "value": 5000,
                                 "currency": "CNY"}]},
         "actions": [
             {"id": "hold", "type": "order.hold",
              "params": {"reason": "high_value_review", "note": "大额订单待复核"}},
             {"id": "ticket", "type": "ticket.create",
              "params": {"title": "大额订单复核 {{ order.external_id }}",
                         "body": "金额 {{ order.total_text }} {{ order.currency }}",
                         "priority": "normal", "tags": ["大额复核"]}}]},
        (), _amount_blanks(5000, ("conditions", "all", 0), "金额达到", "Amount at least")),
    RuleTemplate(
        "incomplete-address-hold", "地址不完整冻结", "Incomplete address hold",
        "新订单缺少城市、区县或邮编时冻结并创建工单,联系买家补全地址。",
        "New orders missing the city, district or postal code are held with a ticket to "
        "get the address completed.",
        "S4",
        {"name": "地址不完整冻结", "description": "收货地址不完整的订单先冻结",
         "trigger": {"kind": "event", "event": "order.placed"},
         "conditions": {"any": [
             {"field": "order.address.city", "op": "is_empty"},
             {"field": "order.address.district", "op": "is_empty"},
             {"field": "order.address.postal_code", "op": "is_empty"}]},
         "actions": [
             {"id": "hold", "type": "order.hold",
              "params": {"reason": "address_incomplete", "note": "收货地址不完整"}},
             {"id": "ticket", "type": "ticket.create",
              "params": {"title": "地址待补全 {{ order.external_id }}",
                         "priority": "normal", "tags": ["地址不完整"]}}]}),
    RuleTemplate(
        "unpaid-30min-reminder", "30分钟未支付催付提醒", "Unpaid after 30 minutes: reminder",
        "下单30分钟后仍未支付:短信提醒买家,超时将取消,并给订单打“已催付”标签。",
        "Still unpaid 30 minutes after ordering: text the buyer that the order will be "
        "cancelled and tag the order.",
        "S4",
        {"name": "30分钟未支付催付", "description": "超时取消前提醒买家付款",
         "trigger": {"kind": "timeout", "event": "order.placed", "minutes": 30,
                     "unless": "payment.succeeded"},
         "conditions": {"all": [{"field": "order.status", "op": "eq", "value": "placed"}]},
         "actions": [
             {"id": "remind", "type": "sms.send",
              "params": {"template": "SMS_PAY_REMIND",
                         "params": {"order_no": "{{ order.external_id }}"}}},
             {"id": "mark", "type": "order.tag", "params": {"tags": ["已催付"]}}]},
        (PAYMENT_REMINDER_SMS,),
        (Blank("minutes", "下单后多少分钟未支付", "Minutes unpaid after ordering", "number", 30,
               (("trigger", "minutes"),)),)),
    RuleTemplate(
        "promotion-high-intent", "直播赠品名额:客户标记高意向",
        "Promotion gift claimed: high intent",
        "订单领到直播活动赠品名额时:CRM中给客户打“高意向”标签,订单打“直播赠品”标签。"
        "(配置ERP连接器后可再加一步调用ERP创建预分配单。)",
        "When an order claims a live-stream promotion gift: tag the buyer as high intent in the "
        "CRM and tag the order. (With an ERP connector configured, add a step that sends the "
        "ERP a pre-allocation order.)",
        "S6",
        {"name": "直播赠品名额:高意向客户", "description": "S6：直播间领取赠品的买家",
         "trigger": {"kind": "event", "event": "promotion.claimed"},
         "conditions": {"all": []},
         "actions": [
             {"id": "intent", "type": "crm.tag", "params": {"tags": ["高意向"], "push": True}},
             {"id": "mark", "type": "order.tag", "params": {"tags": ["直播赠品"]}}]}),
    # S8: the side effects that close the books after a return (integrations kingdee, crm).
    RuleTemplate(
        "return-refund-credit-receivable", "退款后冲销应收(金蝶红字应收)",
        "Refunded return: credit the receivable (Kingdee)",
        "退货退款成功后:在金蝶生成红字应收单冲销原订单应收(按退货单号只生成一次),"
        "成功后在订单上记录“应收已核销”。",
        "When a return is refunded: a red receivable in Kingdee credits the order's receivable "
        "(once per return), then the order records the receivable closed.",
        "S8",
        {"name": "退款后冲销应收", "description": "S8：退款成功即冲销原应收，月底应收不虚高",
         "trigger": {"kind": "event", "event": "refund.succeeded"},
         "conditions": {"all": [{"field": "event.data.return_id", "op": "not_empty",
                                 "type": "text"}]},
         "actions": [
             {"id": "credit", "type": "erp.credit_receivable",
              "params": {"customer": "CUST-RETAIL"},
              "on_error": {"retries": 8, "backoff_seconds": 30, "then": "fail"}}]},
        (), (Blank("customer", "金蝶客户编码", "Kingdee customer number", "text", "CUST-RETAIL",
                   (("actions", 0, "params", "customer"),)),)),
    RuleTemplate(
        "two-returns-lower-level", "90天内两次退货:降低客户等级",
        "Two returns in 90 days: lower the customer's level",
        "客户90天内第二次申请退货时:在CRM中把客户等级降低一级,并在订单上记录“客户等级变更”。",
        "When a customer asks for a second return within 90 days: lower their level in the CRM "
        "by one, and record the level change on the order.",
        "S8",
        {"name": "两次退货降级", "description": "S8：频繁退货的客户降低等级",
         "trigger": {"kind": "event", "event": "return.requested"},
         "conditions": {"all": [{"field": "order.customer.returns_90d", "op": "gte",
                                 "value": 2}]},
         "actions": [
             {"id": "lower", "type": "crm.lower_level",
              "params": {"levels": 1, "reason": "90天内退货{{ order.customer.returns_90d }}次"},
              "on_error": {"retries": 5, "backoff_seconds": 30, "then": "fail"}}]},
        (), (Blank("returns", "90天内退货达到几次", "Returns in 90 days at least", "number", 2,
                   (("conditions", "all", 0, "value"),)),
             Blank("levels", "降低几级", "Levels to lower", "number", 1,
                   (("actions", 0, "params", "levels"),)))),
    RuleTemplate(
        "return-low-stock-replenish", "退货后库存仍低于阈值:申请补货",
        "Still under the threshold after a return: request replenishment",
        "退货质检完成(可售件已回库)后,退货商品的可售库存仍低于库存低位阈值时:在金蝶生成采购申请单"
        "(每个SKU每天最多一张)。",
        "When a return is inspected (its restockable units are back on hand) and a returned "
        "SKU's sellable stock is still at or under "
        "its low-stock threshold: raise a purchase requisition in Kingdee (at most one per SKU "
        "and day).",
        "S8",
        {"name": "退货后补货", "description": "S8：退货后库存仍不足时申请补货",
         "trigger": {"kind": "event", "event": "return.inspected"},
         "conditions": {"all": []},
         "actions": [
             {"id": "replenish", "type": "erp.request_replenishment",
              "params": {"top_up": 10},
              "on_error": {"retries": 5, "backoff_seconds": 60, "then": "fail"}}]},
        (), (Blank("top_up", "补到阈值后再多申请(件)", "Units beyond the threshold", "number",
                   10, (("actions", 0, "params", "top_up"),)),)),
)


def _routing(name: str, description: str, event: str) -> dict[str, Any]:
    """Route (or keep a person's decision), book the pickup once, text the buyer once."""
    return {
        "name": name, "description": description,
        "trigger": {"kind": "event", "event": event},
        "conditions": {"all": []},
        "actions": [
            {"id": "route", "type": "return.route", "params": {},
             "on_error": {"retries": 5, "backoff_seconds": 10, "then": "fail"},
             "on_outcome": {"decision_required": [
                 {"id": "route_hold", "type": "order.hold",
                  "params": {"reason": RETURN_HOLD,
                             "note": "{{ steps.route.exception_zh }}",
                             "note_en": "{{ steps.route.exception_en }}"}}]}},
            {"id": "pickup", "type": "carrier.book_return_pickup", "params": {},
             "if": {"all": [{"field": "steps.route.routed", "op": "is_true", "type": "bool"}]},
             "on_error": {"retries": 5, "backoff_seconds": 10, "then": "fail"},
             "on_outcome": {"refused": [
                 {"id": "pickup_hold", "type": "order.hold",
                  "params": {"reason": RETURN_HOLD,
                             "note": "承运商拒绝上门取件：{{ steps.pickup.refusal }}",
                             "note_en": "The carrier refused the pickup: "
                                        "{{ steps.pickup.refusal }}"}}]}},
            {"id": "notify", "type": "sms.send",
             "if": {"all": [{"field": "steps.pickup.booked", "op": "is_true",
                             "type": "bool"}]},
             "params": {"template": "SMS_RETURN_PICKUP",
                        "params": {"centre": "{{ steps.route.centre_name }}",
                                   "address": "{{ steps.route.address_text }}",
                                   "window": "{{ steps.pickup.window_text }}"}}}]}


TEMPLATES += (
    RuleTemplate(
        "return-routing", "退货路由", "Return routing",
        "买家申请退货:按原运单的承运商网点查退货政策,改用对应退货中心地址(保留买家填写的地址备查),"
        "预约顺丰上门取件,短信告知新地址和上门时间段;无法确定时冻结订单待人工决定。",
        "On a return request: the original waybill's carrier outlet gives the return centre "
        "(policy table); its address replaces the one the buyer typed (kept for audit), an SF "
        "pickup is booked and the buyer gets an SMS with the address and the window. When "
        "any link is missing the order is held for a person to decide.",
        "S7",
        _routing("退货路由", "S7：退货按网点路由到退货中心并预约上门取件", "return.requested"),
        (RETURN_PICKUP_SMS,)),
    RuleTemplate(
        "return-route-decided", "退货路由:人工决定后预约取件", "Return routing: after a decision",
        "运营人工决定无法自动路由的退货后(选定退货中心,或修正政策/发货后重新路由):"
        "预约顺丰上门取件并短信告知买家,各只一次;仍无法路由时再次冻结待决定。",
        "When ops decide a return that could not be routed (they pick the centre, or route it "
        "again after fixing the policy or the shipment): book the SF pickup and text the buyer, "
        "each once; still unroutable, the order is held again.",
        "S7",
        _routing("退货路由:人工决定后", "S7：人工决定退货中心后预约上门取件并通知买家",
                 "return.route_decided"),
        (RETURN_PICKUP_SMS,)),
)
# The exception workbench's playbook (docs/exceptions.md): a rule on exception.opened settles
# what it can; what is still open after the window is marked "decision required".
TEMPLATES += (
    RuleTemplate(
        "exception-address-confirm", "地址异常:短信请买家确认地址",
        "Address exception: ask the buyer to confirm",
        "地址类异常开启时:短信请买家确认或补全地址,并给订单打“待确认地址”标签;"
        "仍未解决的异常在窗口期后标为需人工决策。",
        "When an address exception opens: text the buyer to confirm or complete the address "
        "and tag the order; an exception still open after the window needs a decision.",
        "S12b",
        {"name": "地址异常请买家确认", "description": "异常工作台:地址异常自动请买家确认地址",
         "trigger": {"kind": "event", "event": "exception.opened"},
         "conditions": {"any": [
             {"field": "event.payload.reason", "op": "eq", "value": "address_incomplete"},
             {"field": "event.payload.reason", "op": "eq", "value": "address_unverified"}]},
         "actions": [
             {"id": "ask", "type": "sms.send",
              "params": {"template": "SMS_ADDR_CONFIRM",
                         "params": {"order_no": "{{ order.external_id }}"}}},
             {"id": "mark", "type": "order.tag", "params": {"tags": ["待确认地址"]}}]},
        (ADDRESS_CONFIRM_SMS,)),
)
TEMPLATE_BY_ID = {t.id: t for t in TEMPLATES}
