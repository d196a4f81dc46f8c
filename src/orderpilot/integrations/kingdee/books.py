"""The bills a return writes in Kingdee: a red receivable (红字应收单) crediting the order's
receivable, and a purchase requisition (采购申请单) asking for replenishment.

Both bill numbers are made from what they are about, never drawn: the credit of return R is
``RC-<R>``, the requisition of SKU S on day D (China time) ``PR-<YYYYMMDD>-<S>``. Kingdee
refuses a second bill with a number it holds, so a resend can never make a second credit or a
second requisition for the same day, and a look-up by number says whether the first one landed.

Format facts and where they come from (besides the Save envelope, in mapping.py), each field
checked against public code in Dec 2026 (issue 13, brief s7):

* ``AR_receivable`` (应收单) Save model, verified: the public K3Cloud WebAPI DTO
  github.com/vebin/Kingdee.Bos.Plug ``Source/MgSoft.K3Cloud.WebApi/Common/Dto/Ar/
  Ar_ReceivableSaveInputDto.cs`` names the head ``FBillTypeID`` {``FNUMBER``}, ``FBillNo``,
  ``FDATE``, ``FENDDATE_H`` (到期日), ``FCUSTOMERID``, ``FCURRENCYID`` (``PRE001``),
  ``FSETTLEORGID``, ``FPAYORGID`` (收款组织), ``FSALEORGID`` (all required there),
  ``FAR_Remark`` and the entry list ``FEntityDetail``; ``Ar_Receivable_EntityDetail.cs`` the
  entry's ``FMATERIALID``, ``FPriceQty``, ``FTaxPrice`` (required) and ``FALLAMOUNTFOR_D``.
  Public Save examples agree (code search "testArReceivableSave": ``FENDDATE_H``,
  ``FPAYORGID``, the same entry fields, form ``AR_receivable``). Until Dec 2026 the model sent
  no ``FENDDATE_H`` and no ``FPAYORGID``, which that DTO requires: both are sent now.
* ``YSD01_SYS`` as the bill type of 标准应收单, verified: public Save code comments it so
  (code search "FBillTypeID  标准应收单 YSD01_SYS") and several public receivable Save models
  send it.
* The link to the sale order, partly verified: ``FSOURCEBILLNO`` is a column of the receivable
  entry (public SQL joins ``T_AR_RECEIVABLEENTRY.FSOURCEBILLNO`` to the upstream bill's
  number, code search "detailsRec.FSOURCEBILLNO"), where Kingdee keeps the source bill (usually
  the outbound bill); the hub, which has no outbound bill number, puts the sale order's number
  there. ``FORDERNUMBER`` (订单号) is verified on the mirror form's entry (a public AP_Payable
  plug-in reads ``AP_PAYABLEENTRY`` ``FORDERNUMBER``, code search "firstEntry[\"FORDERNUMBER\"]")
  but **not** on the receivable's: no public code was found writing or reading it there.
  client.py reads receivables by it; an installation whose receivable entry lacks it filters
  on ``FSOURCEBILLNO`` instead.
* A red bill (红字) is the same form with negative quantities and amounts; Kingdee's AR
  write-off (应收核销) then matches it against the blue receivable of the same sale order.
* ``PUR_Requisition`` (采购申请单) Save model, verified: a public K3Cloud model class
  ``PUR_RequisitionSave`` (code search "采购申请单保存操作信息实体") names ``FBillTypeID``
  {``FNUMBER``}, ``FBillNo``, ``FApplicationDate``, ``FRequestType``, ``FApplicationOrgId``
  {``FNumber``} and the entry list ``FEntity`` with ``FMaterialId`` {``FNumber``},
  ``FReqQty``, ``FRequireOrgId`` and ``FPurchaseOrgId``; a public TypeScript client (code
  search "buildPurchaseRequisitionModel") sends ``FBillTypeID`` ``CGSQD01_SYS``,
  ``FRequestType`` ``Material``, ``FApplicationDate`` and entries with ``FReqQty`` and
  ``FArrivalDate`` to form ``PUR_Requisition``; ``FAPPROVEQTY`` is read by public code
  (code search "get_purchase_requisition_data"). Not verified: the head's ``FNote`` (a
  free-text remark; no public requisition model was found sending it).
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
        "FENDDATE_H": day.isoformat(),  # due at once: it credits a receivable already due
        "FCUSTOMERID": {"FNumber": customer},
        "FCURRENCYID": {"FNumber": "PRE001"},
        "FSETTLEORGID": {"FNumber": org_number},
        "FPAYORGID": {"FNumber": org_number},
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
            "FRequireOrgId": {"FNumber": org_number},
            "FPurchaseOrgId": {"FNumber": org_number},
        }],
    }


__all__ = ["CREDIT_BILL_TYPE", "RECEIVABLE_FORM", "REQUISITION_BILL_TYPE", "REQUISITION_FORM",
           "credit_bill_no", "credit_model", "requisition_bill_no", "requisition_model"]
