"""Request bodies of the public API. Money is a plain decimal string; numbers are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from orderpilot.domain.commands import LineInput, PlaceOrder

# The pattern is documentation (and guides the API fuzzer); domain/money.py enforces the rule
# with a message that names the field, alongside the order's other problems.
Money = Annotated[str, Field(
    max_length=20, examples=["129.00"],
    json_schema_extra={"pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
    description="A plain decimal string, at most two decimal places (\"129.00\", \"8\"); no "
                "JSON number, exponent, NaN, Infinity or thousands separator")]
Text = Annotated[str, Field(max_length=200)]


def _find_nul(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key!r}"
        found = _find_nul(item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}")
        if found:
            return found
    return None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _no_nul_characters(self) -> Strict:
        # NUL cannot be stored in PostgreSQL text and is never meaningful in an order.
        for name in type(self).model_fields:
            where = _find_nul(getattr(self, name), name)
            if where:
                raise ValueError(f"{where} contains a NUL character")
        return self


class CustomerIn(Strict):
    name: Annotated[str, Field(max_length=100)]
    phone: Annotated[str, Field(
        max_length=32, examples=["13800000000", "+65 9123 4567"],
        description="Checked against the numbering plan of its country: an international "
                    "number (+65 ...) against its own, a local one against the shipping "
                    "address's (CN, HK, TW, SG, MY, TH, ID, PH, VN, US; other countries: "
                    "E.164, or 6-15 digits)")]


class AddressIn(Strict):
    country: Annotated[str, Field(max_length=2, examples=["CN"])]
    province: Text = ""
    city: Text = ""
    district: Text = ""
    line1: Text
    postal_code: Annotated[str, Field(max_length=20)] = ""


class LineIn(Strict):
    sku: Annotated[str, Field(max_length=64)]
    name: Text = ""
    quantity: StrictInt
    unit_price: Money
    discount: Money = "0"


class OrderIn(Strict):
    channel: Annotated[str, Field(max_length=32, examples=["shopee"])]
    shop_id: Annotated[str, Field(max_length=64)]
    external_id: Annotated[str, Field(max_length=64)]
    placed_at: datetime
    currency: Annotated[str, Field(max_length=3, examples=["CNY"])]
    customer: CustomerIn
    shipping_address: AddressIn
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    total: Money
    shipping_fee: Money = "0"
    tags: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=50)] = []

    def to_command(self, idempotency_key: str | None, raw: Any, raw_source: str = "api",
                   correlation_id: str | None = None) -> PlaceOrder:
        return PlaceOrder(
            channel=self.channel, shop_id=self.shop_id, external_id=self.external_id,
            placed_at=self.placed_at, currency=self.currency, customer_name=self.customer.name,
            customer_phone=self.customer.phone, address=self.shipping_address.model_dump(),
            lines=tuple(LineInput(ln.sku, ln.quantity, ln.unit_price, ln.name, ln.discount)
                        for ln in self.lines),
            total=self.total, shipping_fee=self.shipping_fee, tags=tuple(self.tags),
            raw_payload=raw, raw_source=raw_source, idempotency_key=idempotency_key,
            correlation_id=correlation_id)


class EventIn(Strict):
    type: Annotated[str, Field(max_length=64, examples=["payment.succeeded"])]
    source: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                 examples=["youzan"])]
    source_event_id: Annotated[str | None, Field(max_length=200)] = None
    occurred_at: datetime
    data: dict[str, Any] = {}
    correlation_id: Annotated[str | None, Field(max_length=200)] = None


class HoldIn(Strict):
    reason: Annotated[str, Field(max_length=64, examples=["address_incomplete"])]
    note: Annotated[str, Field(max_length=1000)] = ""
    release_after_minutes: Annotated[int | None, Field(ge=1, le=43200)] = None
