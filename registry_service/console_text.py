"""Provides the operator console"s words, Chinese first and English: headings, labels, states, reasons, outcomes.

The words are the kiosk"s message catalogue"s (`console.*` in kiosk/locale), as the phone page"s are; here
only their keys, as N_ declares them for the catalogue check.
"""
from __future__ import annotations

from functools import lru_cache

from kiosk.i18n import N_, message

KEYS: dict[str, str] = {
    "title": N_("console.title"),
    "sign_in": N_("console.sign_in"),
    "operator_id": N_("console.operator_id"),
    "password": N_("console.password"),
    "sign_in_button": N_("console.sign_in_button"),
    "sign_out": N_("console.sign_out"),
    "switch": N_("console.switch"),
    "wrong": N_("console.wrong"),
    "locked": N_("console.locked"),
    "csrf": N_("console.csrf"),
    "expired": N_("console.expired"),
    "fleet": N_("console.fleet"),
    "activations": N_("console.activations"),
    "purge": N_("console.purge"),
    "purged": N_("console.purged"),
    "green": N_("console.green"),
    "amber": N_("console.amber"),
    "red": N_("console.red"),
    "version": N_("console.version"),
    "last_beat": N_("console.last_beat"),
    "seconds_ago": N_("console.seconds_ago"),
    "never_seen": N_("console.never_seen"),
    "today": N_("console.today"),
    "visits": N_("console.visits"),
    "registrations": N_("console.registrations"),
    "activations_count": N_("console.activations_count"),
    "refusals": N_("console.refusals"),
    "reasons": N_("console.reasons"),
    "state": N_("console.state"),
    "idle": N_("console.idle"),
    "in_visit": N_("console.in_visit"),
    "out_of_service": N_("console.out_of_service"),
    "reader": N_("console.reader"),
    "psam": N_("console.psam"),
    "uptime": N_("console.uptime"),
    "fingerprint": N_("console.fingerprint"),
    "last_errors": N_("console.last_errors"),
    "audit": N_("console.audit"),
    "at": N_("console.at"),
    "kind": N_("console.kind"),
    "detail": N_("console.detail"),
    "take_out": N_("console.take_out"),
    "message_zh": N_("console.message_zh"),
    "message_en": N_("console.message_en"),
    "put_back": N_("console.put_back"),
    "ordered": N_("console.ordered"),
    "back": N_("console.back"),
    "message_needed": N_("console.message_needed"),
    "taken_out": N_("console.taken_out"),
    "put_back_done": N_("console.put_back_done"),
    "not_ordered": N_("console.not_ordered"),
    "no_such_kiosk": N_("console.no_such_kiosk"),
    "pending_none": N_("console.pending_none"),
    "child": N_("console.child"),
    "registered_at": N_("console.registered_at"),
    "kiosk": N_("console.kiosk"),
    "code_until": N_("console.code_until"),
    "cancel": N_("console.cancel"),
    "cancelled": N_("console.cancelled"),
    "not_pending": N_("console.not_pending"),
    "no_code": N_("console.no_code"),
    "summary": N_("console.summary"),
    "reason.never": N_("console.reason.never"),
    "reason.missed": N_("console.reason.missed"),
    "reason.order": N_("console.reason.order"),
    "reason.out_of_service:reader": N_("console.reason.out_of_service:reader"),
    "reason.out_of_service:psam": N_("console.reason.out_of_service:psam"),
    "reason.out_of_service:registry": N_("console.reason.out_of_service:registry"),
    "reason.out_of_service:rules": N_("console.reason.out_of_service:rules"),
    "reason.out_of_service:technician": N_("console.reason.out_of_service:technician"),
    "reason.out_of_service:operator": N_("console.reason.out_of_service:operator"),
    "reason.reader:no_reader": N_("console.reason.reader:no_reader"),
    "reason.reader:error": N_("console.reason.reader:error"),
    "reason.psam:absent": N_("console.reason.psam:absent"),
    "reason.psam:error": N_("console.reason.psam:error"),
    "reader.ok": N_("console.reader.ok"),
    "reader.no_reader": N_("console.reader.no_reader"),
    "reader.no_card": N_("console.reader.no_card"),
    "reader.error": N_("console.reader.error"),
    "psam.ok": N_("console.psam.ok"),
    "psam.absent": N_("console.psam.absent"),
    "psam.not_needed": N_("console.psam.not_needed"),
    "psam.error": N_("console.psam.error"),
}
"""The console"s words by their short name: catalogue keys."""


@lru_cache(maxsize=2)
def words(lang: str) -> dict[str, str]:
    """Every console word in `lang` ("en", else Chinese), placeholders ({tries}, {count}, ...) left to fill."""
    lang = "en" if lang == "en" else "zh"
    return {name: message(key, lang) for name, key in KEYS.items()}
