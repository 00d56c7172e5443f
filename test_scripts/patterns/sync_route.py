"""A plain `def` route: FastAPI runs it in a worker thread of the threadpool."""

from __future__ import annotations

import logging
import threading

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

logger = logging.getLogger(__name__)
router = APIRouter()


class InvoiceLine(BaseModel):
    quantity: int
    unit_cents: int


class Invoice(BaseModel):
    lines: list[InvoiceLine]
    tax_percent: int


class InvoiceTotal(BaseModel):
    subtotal_cents: int
    tax_cents: int
    total_cents: int


@router.post("/invoices/total")
def invoice_total(invoice: Invoice) -> InvoiceTotal:
    """Total an invoice, tax included (rounded down to the cent)."""
    subtotal = sum(line.quantity * line.unit_cents for line in invoice.lines)
    tax = subtotal * invoice.tax_percent // 100
    logger.info("totalled in %s", threading.current_thread().name)
    return InvoiceTotal(subtotal_cents=subtotal, tax_cents=tax, total_cents=subtotal + tax)


def create_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app
