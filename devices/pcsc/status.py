"""Provides PC/SC return codes: their names, the groups the kiosk tells apart, and the catalogued error for each."""
from __future__ import annotations

from smartcard import scard

from kiosk.errors import KioskError


def u32(rv: int) -> int:
    """Returns:
        A PC/SC result as the unsigned 32-bit value the SCARD_* names stand for (pyscard may give it signed).
    """
    return rv & 0xFFFFFFFF


def _code(name: str) -> int:
    return u32(getattr(scard, name))


_NAMES: dict[int, str] = {0: "SCARD_S_SUCCESS"}
for _name in sorted(dir(scard)):
    if _name.startswith(("SCARD_E_", "SCARD_W_", "SCARD_F_", "SCARD_P_")) and isinstance(getattr(scard, _name), int):
        _NAMES.setdefault(u32(getattr(scard, _name)), _name)

# The results the kiosk tells apart, after u32(); the groups are those of the table in devices/pcsc/reader.py.
SUCCESS = 0
TIMEOUT = _code("SCARD_E_TIMEOUT")
CANCELLED = _code("SCARD_E_CANCELLED")
NO_READERS = _code("SCARD_E_NO_READERS_AVAILABLE")
RESET_CARD = _code("SCARD_W_RESET_CARD")
SERVICE_GONE = frozenset(map(_code, ("SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED", "SCARD_F_COMM_ERROR")))
READER_GONE = frozenset(map(_code, ("SCARD_E_NO_READERS_AVAILABLE", "SCARD_E_UNKNOWN_READER", "SCARD_E_READER_UNAVAILABLE")))
CARD_GONE = frozenset(map(_code, ("SCARD_E_NO_SMARTCARD", "SCARD_W_REMOVED_CARD")))
MUTE = frozenset(map(_code, ("SCARD_W_UNRESPONSIVE_CARD", "SCARD_W_UNPOWERED_CARD")))
UNSUPPORTED = frozenset(map(_code, ("SCARD_W_UNSUPPORTED_CARD", "SCARD_E_PROTO_MISMATCH", "SCARD_E_CARD_UNSUPPORTED")))
BUSY = frozenset({_code("SCARD_E_SHARING_VIOLATION")})
CLASSIFIED = SERVICE_GONE | READER_GONE | CARD_GONE | MUTE | UNSUPPORTED | BUSY  # mapped to their own codes


def error_name(rv: int) -> str:
    """Returns:
        The PC/SC name of a result code ("SCARD_E_NO_SMARTCARD"), or its hex value when unknown.
    """
    return _NAMES.get(u32(rv), f"0x{u32(rv):08X}")


def pcsc_error(rv: int, what: str, *, in_session: bool) -> KioskError:
    """Map a failed PC/SC call to the catalogue (the table in devices/pcsc/reader.py's docstring).

    Args:
        rv: the PC/SC result.
        what: the call and the reader, for the detail.
        in_session: True when a connection to the card was open (then a lost service or reader
            is READER_LOST and a missing card is CARD_REMOVED).
    """
    code = u32(rv)
    detail = f"{what}: {error_name(rv)}"
    if code in SERVICE_GONE:
        return KioskError("READER_LOST" if in_session else "READER_UNAVAILABLE", f"{detail} (no PC/SC service: is pcscd running?)")
    if code in READER_GONE:
        return KioskError("READER_LOST" if in_session else "READER_UNAVAILABLE", detail)
    if code in CARD_GONE:
        return KioskError("CARD_REMOVED" if in_session else "CARD_ABSENT", detail)
    if code in MUTE:
        return KioskError("CARD_MUTE", detail)
    if code in UNSUPPORTED:
        return KioskError("CARD_UNSUPPORTED", detail)
    if code in BUSY:
        return KioskError("READER_BUSY", detail)
    return KioskError("CARD_COMMUNICATION", detail)


def establish_context() -> tuple[int, int]:
    """Returns:
        (the PC/SC result after u32(), a new user-scope context; meaningless unless the result is SUCCESS).
    """
    rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    return u32(rv), context


def release_context(context: int) -> None:
    """Release a PC/SC context; never fails."""
    try:
        scard.SCardReleaseContext(context)
    except Exception:  # noqa: BLE001 - a context of a dead pcscd may refuse; it is gone either way
        pass
