"""The shop's output type and check: what a support answer holds, and when it falls short."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class OrderAnswer(BaseModel):
    """The answer to a customer's question about one order."""

    status: Literal["shipped", "processing", "delivered"] = Field(
        description="the order's status as the order database gives it"
    )
    reply: str = Field(description="what to tell the customer, in one or two sentences")


def reply_matches_status(output: BaseModel) -> str | None:
    """The reply must tell the customer the status it reports (else it goes back for a revision)."""
    if isinstance(output, OrderAnswer) and output.status not in output.reply.lower():
        return f"the reply does not tell the customer that the order is {output.status}"
    return None
