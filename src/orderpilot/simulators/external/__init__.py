"""Loopback simulators of the systems rule actions call: `orderpilot sim serve --port P`.

A simulator is a module with `NAME` and `router` (an APIRouter mounted at /NAME), and
optionally `admin_router` (mounted at /_sim/NAME) and `reset(recorder)` (called on
DELETE /_sim/NAME). Its routes answer through `recorder.handle(...)`, which records each
request once per idempotency key and applies injected faults. To add one, import it here
and append it to SIMULATORS.
"""

from types import ModuleType

from orderpilot.simulators.external import (
    aliyun_sms,
    crm,
    customs,
    dingtalk,
    helpdesk,
    smtp,
    tencent_sms,
    wecom,
    wms,
)

SIMULATORS: list[ModuleType] = [customs, aliyun_sms, tencent_sms, helpdesk, crm, dingtalk,
                                wecom, smtp, wms]
