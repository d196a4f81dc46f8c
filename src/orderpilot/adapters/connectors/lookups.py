"""Asking an outside system whether a call with a given key already happened.

A call whose answer never arrived (the hub was killed during it, or it timed out) has an
unknown outcome. Before a resend the runner asks the provider, by the key it sent, and resends
only when the answer is "not there". What each provider offers:

* Aliyun SMS: QuerySendDetails by phone and send date; each record carries the OutId sent.
* Tencent SMS: PullSmsSendStatusByPhoneNumber; each status carries the SessionContext sent,
  but only once the carrier's delivery report arrived (so "not there" is trusted only after a
  grace period).
* helpdesk and CRM: our contract's GET look-ups by the Idempotency-Key.
* generic HTTP, e-mail, DingTalk and WeCom robots: no look-up exists (each action's module
  under services/rules/actions/ says what protects the receiver from a repeat).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SentRecord:
    """What a look-up found: ``found`` says whether the provider has the call's key."""

    found: bool
    request: dict[str, Any]
    response: Any
    latency_ms: float
    output: dict[str, Any] = field(default_factory=dict)
