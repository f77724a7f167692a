from __future__ import annotations

import marshmallow as ma


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.Email(required=True)
    name = ma.fields.String(required=True)
    locale = ma.fields.String(allow_none=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
