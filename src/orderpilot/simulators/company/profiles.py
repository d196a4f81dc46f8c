"""Fault profiles of the company simulator: what goes wrong, how often (docs/simulator.md has
the table: fault, rate, what it does, which figure it moves).

``default`` is the seed company's everyday trouble (BRIEF.md S11, S12); ``none`` is a company
where everything flows: no fault, no return, no cancellation, nothing for a person to do.
``demo`` is the demo history's: its own plan (demo_history_plan.SEED_FAULTS, what its truth
file and tests read) with the orders a person must fix added (company/plan.hold_for_people),
played by the same playback (company/play.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from orderpilot.simulators.demo_history_plan import SEED_FAULTS, FaultRates


@dataclass(frozen=True)
class Profile:
    name: str
    rates: FaultRates  # the history's faults: ERP lag, lost and resent callbacks, returns...
    wrong_addresses: bool = True  # a mainland buyer types only an estate: the courier refuses
    customs_refused: float = 0.0  # of mainland orders shipped: the filing is refused
    stock_outs_per_day: int = 0  # a SKU counted at zero until the next morning's count
    carrier_out_of_order: float = 0.0  # of delivered orders: the in-transit scan comes last
    promotion_share: float = 0.0  # of the orders, placed in the evening live-stream burst


# The seed's diagnosis faults of the ERP's own books (amounts keyed wrong, orders never
# booked, receivables opened twice or never closed) are the demo history's (docs/demo.md);
# the everyday profile keeps the systems' untidiness and the orders that need a person.
DEFAULT = Profile(
    "default",
    replace(SEED_FAULTS, amount_mismatch=0.0, never_booked=0.0, duplicate_receivable=0.0,
            open_after_return=0.0),
    customs_refused=0.01,
    stock_outs_per_day=1,
    carrier_out_of_order=0.03,
    promotion_share=0.15,
)

NONE = Profile(
    "none",
    FaultRates(lost_wms_callbacks=0.0, open_after_return=0.0, amount_mismatch=0.0,
               never_booked=0.0, duplicate_receivable=0.0, late_picks=0.0, returns=0.0,
               cancelled_after_booking=0.0, never_paid=0.0, late_reports=0.0,
               resent_reports=0.0),
    wrong_addresses=False,
)

DEMO = Profile("demo", SEED_FAULTS, customs_refused=0.01)

PROFILES = {p.name: p for p in (DEFAULT, NONE)}  # what `orderpilot simulate --faults` offers
