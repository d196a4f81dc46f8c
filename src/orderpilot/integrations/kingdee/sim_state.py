"""The Kingdee simulator's state and test account (simulator.py speaks the WebAPI,
sim_admin.py holds the /_sim/kingdee routes)."""

from __future__ import annotations

import base64
import itertools
from datetime import datetime
from typing import Any

from fastapi.responses import Response

from orderpilot.adapters.channels.base import dumps
from orderpilot.domain.times import SHANGHAI
from orderpilot.integrations.kingdee.signing import hidden_secret
from orderpilot.simulators.external.recorder import Recorder

NAME = "kingdee"
SIM_ACCT_ID = "6750a1b2c3d4e5"
SIM_USERNAME = "orderpilot"
SIM_APP_SECRET = "9f2c4e6a8b0d4f1e3a5c7e9b1d3f5a7c"
SIM_APP_ID = hidden_secret("310001", base64.b64encode(b"orderpilot-sim-gateway!!").decode())
SIM_CREDENTIALS = {"acct_id": SIM_ACCT_ID, "username": SIM_USERNAME, "app_id": SIM_APP_ID,
                   "app_secret": SIM_APP_SECRET}
SIM_SHOP_ID = SIM_ACCT_ID
SIM_REGION = "CN"
SESSION_LOST = "会话信息已丢失，请重新登录"


def state_of(recorder: Recorder) -> dict[str, Any]:
    data = recorder.data
    if "bills" not in data:
        data.update(bills={}, receivables={}, sessions={}, fail={}, style={},
                    requisitions={}, fid=itertools.count(100001))
    return data


def reset(recorder: Recorder) -> None:
    recorder.data.clear()
    state_of(recorder)


def json_answer(content: Any, status: int = 200) -> Response:
    return Response(dumps(content), status, media_type="application/json; charset=utf-8")


def now_text(at: datetime | None = None) -> str:
    return (at or datetime.now(SHANGHAI)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
