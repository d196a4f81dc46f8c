"""The bills a return writes in Kingdee: a red receivable (红字应收单) crediting the order's
receivable, and a purchase requisition (采购申请单) asking for replenishment.

Both bill numbers are made from what they are about, never drawn: the credit of return R is
``RC-<R>``, the requisition of SKU S on day D (China time) ``PR-<YYYYMMDD>-<S>``. Kingdee
refuses a second bill with a number it holds, so a resend can never make a second credit or a
second requisition for the same day, and a look-up by number says whether the first one landed.

Format facts and where they come from (besides the Save envelope, in mapping.py):

* ``AR_receivable`` is the receivable (应收单) form; its head fields ``FBillTypeID``,
  ``FCUSTOMERID``, ``FSALEORGID``, ``FAR_Remark`` and entry amount ``FALLAMOUNTFOR_D``
  (价税合计) as public reports query them (code search "FALLAMOUNTFOR_D,FCreatorId.FName,
  FAR_Remark"; the bill type named 标准应收单 in "FBillTypeID.FName = '标准应收单'").
* The Save Model of the mirror form ``AP_Payable`` (github.com/TonySteven/
  genesis-meituan-openapi-java-sdk, ``KingdeeSavePayableOrderCmdExe.java``): ``FBillTypeID``
  {``FNUMBER``}, ``FDATE``, ``FCURRENCYID`` {``FNumber``: ``PRE001``}, ``FSETTLEORGID``,
  ``FEntityDetail`` rows {``FMATERIALID``, ``FPriceQty``, ``FTaxPrice``,
  ``FALLAMOUNTFOR_D``, ``FSourceBillNo``}; the receivable side uses the same shape with the
  customer (``FCUSTOMERID``) for the supplier.
* A red bill (红字) is the same form with negative quantities and amounts; Kingdee's AR
  write-off (应收核销) then matches it against the blue receivable of the same sale order. Not
  verified from Kingdee's own docs: the bill type number ``YSD01_SYS`` for 标准应收单 (an
  installation sets its own in the action's ``bill_type``), and ``FORDERNUMBER`` on the entry
  as the sale order's number (client.py reads receivables by it).
* ``PUR_Requisition`` is the purchase requisition (采购申请单): the public list of form ids
  (code search "PUR_采购申请单 = \\"PUR_Requisition\\""), and public code reading it with
  ``FBILLNO``, ``FMATERIALID.FNUMBER``, ``FAPPROVEQTY``, ``FARRIVALDATE`` (code search
  "get_purchase_requisition_data"). Not verified: ``FApplicationDate``,
  ``FApplicationOrgId``, ``FRequestType``, ``FEntity`` and ``FReqQty`` (the request quantity
  beside the approved one) as the Save template names them; ``CGSQD01_SYS`` as the standard
  requisition's bill type.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

RECEIVABLE_FORM = "AR_receivable"
REQUISITION_FORM = "PUR_Requisition"
CREDIT_BILL_TYPE = "YSD01_SYS"
REQUISITION_BILL_TYPE = "CGSQD01_SYS"


def credit_bill_no(return_id: str) -> str:
    return f"RC-{return_id}"


def requisition_bill_no(sku: str, day: date) -> str:
    return f"PR-{day:%Y%m%d}-{sku}"


def credit_model(*, return_id: str, order_no: str, amount: Decimal, day: date,
                 customer: str, org_number: str, material: str,
                 bill_type: str = CREDIT_BILL_TYPE) -> dict[str, Any]:
    """The red receivable for AMOUNT (yuan, positive) of the return RETURN_ID on the sale
    order ORDER_NO: one entry of quantity -1 at the amount, so the bill totals -AMOUNT."""
    return {
        "FBillNo": credit_bill_no(return_id),
        "FBillTypeID": {"FNUMBER": bill_type},
        "FDATE": day.isoformat(),
        "FCUSTOMERID": {"FNumber": customer},
        "FCURRENCYID": {"FNumber": "PRE001"},
        "FSETTLEORGID": {"FNumber": org_number},
        "FSALEORGID": {"FNumber": org_number},
        "FAR_Remark": f"退货 {return_id} 红字应收 / return credit",
        "FEntityDetail": [{
            "FMATERIALID": {"FNumber": material},
            "FPriceQty": -1,
            "FTaxPrice": amount,
            "FALLAMOUNTFOR_D": -amount,
            "FSourceBillNo": order_no,
            "FORDERNUMBER": order_no,
        }],
    }


def requisition_model(*, sku: str, quantity: int, day: date, org_number: str,
                      note: str, bill_type: str = REQUISITION_BILL_TYPE) -> dict[str, Any]:
    """A purchase requisition for QUANTITY of SKU, dated DAY."""
    return {
        "FBillNo": requisition_bill_no(sku, day),
        "FBillTypeID": {"FNUMBER": bill_type},
        "FApplicationDate": day.isoformat(),
        "FApplicationOrgId": {"FNumber": org_number},
        "FRequestType": "Material",
        "FNote": note,
        "FEntity": [{
            "FMaterialId": {"FNumber": sku},
            "FReqQty": quantity,
            "FApproveQty": quantity,
            "FArrivalDate": day.isoformat(),
            "FPurchaseOrgId": {"FNumber": org_number},
        }],
    }


__all__ = ["CREDIT_BILL_TYPE", "RECEIVABLE_FORM", "REQUISITION_BILL_TYPE", "REQUISITION_FORM",
           "credit_bill_no", "credit_model", "requisition_bill_no", "requisition_model"]
