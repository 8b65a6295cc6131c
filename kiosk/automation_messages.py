"""Provides the automation interface's STATE message: a session view as JSON values, texts in the session's language.

Only what the view holds is written, so only masked personal data; `commands` are the commands
possible now (the session's actions, and what the interface adds for testers).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from kiosk.errors import CATALOGUE
from kiosk.session import SessionView


def state_message(view: SessionView, allowed: Iterable[str] = ()) -> dict:
    """The STATE message for a view: only what the view holds (masked), texts in the session's language."""
    lang = view.lang
    child_error = None
    if view.child_id_error is not None:
        child_error = {**_catalogued(view.child_id_error, lang),
                       "position": view.child_id_error_position, "reason": view.child_id_reason}
    return {
        "msg": "STATE",
        "step": view.step.value,
        "lang": lang,
        "card": None if view.card is None else {
            "card_number": view.card.card_number, "spec_version": view.card.spec_version,
            "expiry": _iso(view.card.expiry), "area_code": view.card.area_code,
        },
        "holder": None if view.holder is None else {
            "name": view.holder.name, "resident_id": view.holder.resident_id,
            "card_number": view.holder.card_number, "spec_version": view.holder.spec_version,
            "expiry": _iso(view.holder.expiry),
        },
        "pin_tries_left": view.pin_tries_left,
        "pin_error": None if view.pin_error is None else _catalogued(view.pin_error, lang),
        "child_id_error": child_error,
        "child": None if view.child is None else {
            "name": view.child.name, "resident_id": view.child.resident_id, "age": view.child.age,
            "sex": view.child.sex, "relationship": view.child.relationship,
        },
        "pending": [{"child_name": p.child_name, "child_id": p.child_id} for p in view.pending],
        "children": None if view.children is None else [
            {"child_name": c.name, "child_id": c.resident_id, "birth_year": c.birth_year, "ecard": c.ecard}
            for c in view.children
        ],
        "decision": None if view.decision is None else {
            "eligible": view.decision.eligible,
            "resume": view.decision.resume,
            "phase": view.decision.phase.value,
            "failures": [
                {"code": f.code, "reason": f.reason.get(lang), "next_step": f.next_step.get(lang),
                 "legal_basis": f.legal_basis.get(lang)}
                for f in view.decision.failures
            ],
        },
        "resumed": view.resumed,
        "ticket": None if view.ticket is None else {
            "user_code": view.ticket.user_code, "url": view.ticket.url,
            "expires_at": _iso(view.ticket.expires_at), "renewals": view.ticket.renewals,
        },
        "error": None if view.error is None else {
            **_catalogued(view.error, lang), "retriable": CATALOGUE[view.error].retriable if view.error in CATALOGUE else None,
        },
        "notice": None if view.notice is None else _catalogued(view.notice, lang),
        "out_of_service": None if view.out_of_service is None else _catalogued(view.out_of_service, lang),
        "service_message": view.service_message,  # a technician's words to guardians while out of service
        "commands": list(allowed),
    }


def _catalogued(code: str, lang: str) -> dict:
    entry = CATALOGUE.get(code)
    if entry is None:
        return {"code": code, "text": None, "next_step": None}
    return {"code": code, "text": entry.text.get(lang), "next_step": entry.next_step.get(lang)}


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()
