"""The shop's tools: plain functions a specialist may call (the model reads their docstrings)."""

from __future__ import annotations

import re

# A stand-in for the shop's order database.
ORDERS = {
    "A-1001": {"status": "shipped", "carrier": "DHL", "eta": "4 December"},
    "A-1002": {"status": "processing", "carrier": "not yet assigned", "eta": "8 December"},
}

ORDER_ID = re.compile(r"\b[A-Z]-\d{4}\b")


def order_status(order_id: str) -> str:
    """Look an order up by its id (such as A-1001): its status, carrier and delivery date."""
    found = ORDER_ID.search(order_id)
    order = ORDERS.get(found.group(0)) if found else None
    if found is None or order is None:
        return f"No order matching {order_id!r} is on file."
    return (
        f"Order {found.group(0)} is {order['status']} (carrier: {order['carrier']}); "
        f"expected delivery {order['eta']}."
    )
