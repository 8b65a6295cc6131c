"""Provides the error catalogue: stable code -> guardian text (zh/en) -> next step -> retriable or final."""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import message
from kiosk.text import LANGUAGES, LocalText


@dataclass(frozen=True)
class ErrorEntry:
    """One catalogued failure; its words for the guardian are in the message catalogues (`err.<CODE>`, `err.<CODE>.next`)."""

    code: str
    retriable: bool  # True: trying again may work; False: this visit cannot go on this way
    technician: str  # what a technician should look at
    has_basis: bool = False  # a rule or procedure says why (`err.<CODE>.basis`): the guardian is told which


    @property
    def text(self) -> LocalText:
        """What happened, in plain words."""
        return LocalText(*(message(f"err.{self.code}", lang) for lang in LANGUAGES))

    @property
    def next_step(self) -> LocalText:
        """What the guardian can do now."""
        return LocalText(*(message(f"err.{self.code}.next", lang) for lang in LANGUAGES))

    @property
    def basis(self) -> LocalText | None:
        """The rule or procedure the failure rests on, where one applies (a blocked PIN: the card issuer's
        counter procedure); None for a plain fault such as a reader that does not answer."""
        if not self.has_basis:
            return None
        return LocalText(*(message(f"err.{self.code}.basis", lang) for lang in LANGUAGES))


class KioskError(Exception):
    """A failure with a catalogued code; `detail` is for logs and technicians only, never the screen."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in CATALOGUE:
            raise ValueError(f"uncatalogued error code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    @property
    def entry(self) -> ErrorEntry:
        """The catalogue entry for this error."""
        return CATALOGUE[self.code]


def _e(code: str, retriable: bool, technician: str, *, basis: bool = False) -> ErrorEntry:
    return ErrorEntry(code, retriable, technician, basis)


_ENTRIES = [
    # Reader and card
    _e("READER_UNAVAILABLE", True,
       "No usable reader: check the PC/SC service (pcscd), the reader cable and the reader settings."),
    _e("READER_LOST", True,
       "The reader disappeared during a session (unplugged, or pcscd restarted)."),
    _e("READER_BUSY", True,
       "Sharing violation: another program holds the card or reader exclusively."),
    _e("CARD_ABSENT", True,
       "Connect found no card in the reader."),
    _e("CARD_MUTE", True,
       "The card gave no ATR (mute card, dirty contacts or inserted the wrong way).", basis=True),
    _e("CARD_REMOVED", True,
       "The card left the reader during a command; nothing was counted against the PIN."),
    _e("CARD_UNSUPPORTED", False,
       "The reader or driver refused the card (unsupported card, or no common protocol T=0/T=1)."),
    _e("CARD_NOT_SOCIAL_SECURITY", False,
       "SELECT of the SSSE application answered 6A82.", basis=True),
    _e("CARD_DATA_INVALID", False,
       "The card answered, but with data that does not fit the specification (wrong tag, bad TLV, bad encoding)."),
    _e("CARD_RECORD_MISSING", False,
       "READ RECORD answered 6A83 (record not found) or the file is missing."),
    _e("CARD_NEEDS_PSAM", False,
       "3.00 card: EF06 needs external authentication and no PSAM (key holder) is available."),
    _e("CARD_AUTH_FAILED", True,
       "EXTERNAL AUTHENTICATE was refused, or the PSAM could not compute the cryptogram."),
    _e("CARD_COMMUNICATION", True,
       "A transmit failed or the card answered with an unexpected status word."),
    _e("CARD_TIMEOUT", True,
       "The card (or the reader) did not answer within work_deadline_seconds; the card was let go and a late "
       "answer is dropped. A card that does this again and again is faulty, or pcscd is stuck."),
    _e("PSAM_UNAVAILABLE", True,
       "The PSAM slot holds no working PSAM."),
    # Cards that answer oddly (issue 9): bounded reads, and items the rules need
    _e("CARD_APDU_LIMIT", False,
       "The card kept asking for more: an endless 61xx chain, an answer in too many GET RESPONSE pieces, or more "
       "APDUs than one read may take (devices/apdu.py states the bounds). A broken card, or a reader that mangles T=0."),
    _e("CARD_DATA_MISSING", False,
       "An item the eligibility rules need (expiry date, birth date, resident ID, card number) is empty or all "
       "padding on the card; the kiosk never puts a default in its place."),
    # PIN
    _e("PIN_WRONG", True,
       "VERIFY answered 63Cx or 6300."),
    _e("PIN_BLOCKED", False,
       "VERIFY answered 6983, or the last try was used.", basis=True),
    _e("PIN_FORMAT", True,
       "The PIN typed was not 6 digits; nothing was sent to the card."),
    _e("PIN_PAD_CANCELLED", True,
       "The reader's PIN pad answered 6400 (nothing typed in time) or 6401 (Cancel): no VERIFY reached the card."),
    # Child ID entry
    _e("CHILD_ID_FORMAT", True,
       "The child ID failed the format, date or MOD 11-2 check."),
    # Activation
    _e("ACTIVATION_UNKNOWN", False,
       "No ticket matches the token or user code."),
    _e("ACTIVATION_USED", False,
       "The ticket was already used."),
    _e("ACTIVATION_EXPIRED", False,
       "The ticket expired or was replaced by a newer one."),
    _e("ACTIVATION_DENIED", False,
       "The registry service's phone route answered access_denied: the app's user is not the guardian the ticket "
       "was issued to, or the ticket is locked after presentations by others (the kiosk then draws a fresh QR)."),
    _e("ACTIVATION_SLOW_DOWN", True,
       "The registry service's phone route answered slow_down: too many wrong codes from this client in the "
       "window (its Retry-After says when it takes codes again)."),
    # Service
    _e("DATABASE_UNAVAILABLE", True,
       "The registry database could not be reached or refused a write."),
    _e("REGISTRY_TIMEOUT", True,
       "The registry did not answer within work_deadline_seconds (a slow or stuck database or registry service); "
       "a write it finishes later (a registration) is kept and resumes with the card."),
    _e("SERVICE_UNREACHABLE", True,
       "The registry service (settings: registry = its URL) did not answer: no connection, a timeout, or a 5xx "
       "after the retries an idempotent call gets; the log names the URL and the failure. A registration retried "
       "with its Idempotency-Key never makes a second e-card."),
    _e("SERVICE_CREDENTIAL_REFUSED", False,
       "The registry service refused this kiosk's credential (401): missing, unknown or revoked (the log and the "
       "maintenance console give the service's reason). Ask the operator for a new one "
       "(ecard-registry kiosk add <kiosk_id>) and put it in the kiosk's credential file."),
    _e("SERVICE_BAD_ANSWER", True,
       "The registry service answered something the kiosk cannot read (not the API's JSON, a field missing, a "
       "proxy's error page, an unknown error code); the log has the status and route. Check the service's "
       "version against the kiosk's and what lies between them."),
    _e("REGISTRY_MANAGED_BY_SERVICE", False,
       "The kiosk's registry is the registry service (setting registry = its URL): the console's registry pages "
       "(pending codes, purge, audit, counts, consistency) are the service operator's (ecard-registry)."),
    _e("SESSION_TIMEOUT", False,
       "Idle timeout."),
    _e("CONFIG_INVALID", True,
       "A configuration file the kiosk needs (the regional rule file) cannot be used; the log names the file and key. "
       "The kiosk comes back by itself once the file is corrected."),
    _e("OUT_OF_SERVICE", True,
       "Out of service (reader, database or configuration)."),
    _e("MAINTENANCE", True,
       "A technician took the kiosk out of service from the maintenance console (Service page); "
       "it stays so until a technician puts it back."),
    _e("MAINTENANCE_MODE", True,
       "A technician is using the maintenance console; guardian visits wait until they leave it."),
    _e("OPERATOR_OUT_OF_SERVICE", True,
       "The hall's operator took the kiosk out of service from the service's console (heartbeat answer); "
       "it comes back at the first heartbeat after the operator puts it back."),
    _e("INTERNAL", True,
       "Unexpected exception; see the kiosk log."),
]

CATALOGUE: dict[str, ErrorEntry] = {entry.code: entry for entry in _ENTRIES}
