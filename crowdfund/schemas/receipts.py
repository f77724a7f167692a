"""Receipts in the JSON API: a backer's documents; amounts are integer cents."""

from __future__ import annotations

import marshmallow as ma


class ReceiptSchema(ma.Schema):
    number = ma.fields.String(required=True, metadata={"description": "e.g. KS-2026-000042"})
    kind = ma.fields.String(required=True,
                            metadata={"description": "payment_confirmation | donation_receipt | cancellation"})
    status = ma.fields.String(required=True, metadata={"description": "issued, or numbered (being prepared)"})
    issue_date = ma.fields.Date(required=True)
    amount_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    project_id = ma.fields.Integer(required=True)
    project_title = ma.fields.String(required=True)
    sha256 = ma.fields.String(allow_none=True, metadata={"description": "SHA-256 of the PDF, once issued"})
    pdf_url = ma.fields.String(allow_none=True, metadata={"description": "GET it with the same token"})
