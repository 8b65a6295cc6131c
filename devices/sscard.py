"""Provides the social security card protocol: SSSE selection, EF05/EF06 items, external authentication, VERIFY."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from devices.apdu import ApduChannel, CommandApdu, ResponseApdu, StatusWord, pin_tries_left, sw_text
from devices.codec import FILLER, decode_an, decode_cn, decode_cn_date, parse_tlv, pin_to_bcd
from devices.pinpad import SW_PAD_CANCELLED, SW_PAD_TIMEOUT, PinPadVerify
from devices.psam import KeyHolder
from kiosk.domain import PIN_LENGTH, CardHolder, CardIssuer, PinResult, PinStatus
from kiosk.errors import KioskError
from kiosk.resident_id import EARLIEST_BIRTH, ResidentId, ResidentIdError

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
"""The SSSE application's name: "sx1.sh." in ASCII followed by 社会保障 in GBK."""
EF05 = 0xEF05
EF06 = 0xEF06
EXTERNAL_AUTH_KEY_REF = 0x01
"""The key reference sent in EXTERNAL AUTHENTICATE P2 (model)."""
CHALLENGE_LENGTH = 8
CARD_DATES = (date(1990, 1, 1), date(2199, 12, 31))
"""Issue and expiry dates a card can carry: social security cards exist since the 1990s, and none is valid for
two centuries. Outside this a date is a corrupt item, never a card that does not expire."""
MAX_ORG_DIGITS = 24
"""An organisation number may run to 12 bytes of BCD on some issuers' cards (the spec says 12 digits)."""


@dataclass(frozen=True)
class CardItem:
    """One data item of EF05/EF06: its file, its tag (= record identifier), its size and encoding."""

    file_id: int
    tag: int
    length: int
    encoding: str  # "b", "an" or "cn"

    @property
    def read_command(self) -> CommandApdu:
        """READ RECORD of this item: `00 B2 <tag> 00 <length + 2>` (the record's tag and length come too)."""
        return _READ_RECORD[self.tag]

    @property
    def filler(self) -> frozenset[int]:
        """The bytes that may follow this item's value in its record (its format's padding)."""
        return FILLER[self.encoding]


ITEMS: dict[int, CardItem] = {
    item.tag: item
    for item in (
        CardItem(EF05, 0x01, 16, "b"),  # card identification code
        CardItem(EF05, 0x02, 1, "an"),  # card type
        CardItem(EF05, 0x03, 4, "an"),  # specification version
        CardItem(EF05, 0x04, 6, "cn"),  # initialising organisation
        CardItem(EF05, 0x05, 4, "cn"),  # issue date
        CardItem(EF05, 0x06, 4, "cn"),  # expiry date
        CardItem(EF05, 0x07, 9, "an"),  # card number
        CardItem(EF06, 0x08, 18, "an"),  # social security number
        CardItem(EF06, 0x09, 30, "an"),  # name
        CardItem(EF06, 0x4E, 20, "an"),  # name extension, 3.00 cards
        CardItem(EF06, 0x0A, 1, "an"),  # gender
        CardItem(EF06, 0x0B, 1, "cn"),  # nation
        CardItem(EF06, 0x0C, 3, "cn"),  # birthplace
        CardItem(EF06, 0x0D, 4, "cn"),  # birth date
    )
}
"""The items the kiosk reads, in the order real cards store them. `length` is the specification's size, asked as Le
first; a card may hold a longer value (names, organisation numbers) or pad it, and the item is then read as the TLV
declares it. Sizes fixed by meaning (the resident ID, dates, the card number) are checked by meaning, not bytes."""

# The commands sent on every read, built once.
_READ_RECORD = {tag: CommandApdu(0x00, 0xB2, tag, 0x00, le=item.length + 2) for tag, item in ITEMS.items()}
_SELECT_SSSE = CommandApdu(0x00, 0xA4, 0x04, 0x00, SSSE_AID)


def _select_file_command(file_id: int) -> CommandApdu:
    return CommandApdu(0x00, 0xA4, 0x02, 0x00, file_id.to_bytes(2, "big"))


_SELECT_FILE = {file_id: _select_file_command(file_id) for file_id in (EF05, EF06)}


def _unexpected(response: ResponseApdu, step: str) -> KioskError:
    return KioskError("CARD_COMMUNICATION", f"{step} answered {sw_text(response.sw)}")


def _invalid(detail: str) -> KioskError:
    return KioskError("CARD_DATA_INVALID", detail)


def _missing(what: str) -> KioskError:
    return KioskError("CARD_DATA_MISSING", f"{what} is empty on the card")


class SocialSecurityCard:
    """The protocol spoken to one social security card over an `ApduChannel`."""

    def __init__(self, channel: ApduChannel) -> None:
        self.channel = channel
        self._selected_file: int | None = None
        self._authenticated = False

    def select_ssse(self) -> None:
        """Select the SSSE application.

        Raises:
            KioskError: CARD_NOT_SOCIAL_SECURITY on 6A82, CARD_COMMUNICATION on other status words.
        """
        response = self.channel.transmit(_SELECT_SSSE)
        if response.sw == StatusWord.FILE_NOT_FOUND:
            raise KioskError("CARD_NOT_SOCIAL_SECURITY", "SELECT SSSE answered 6A82")
        if response.sw != StatusWord.OK:
            raise _unexpected(response, "SELECT SSSE")
        self._selected_file = None

    def select_file(self, file_id: int) -> None:
        """Select EF05 or EF06 under SSSE.

        Raises:
            KioskError: CARD_RECORD_MISSING on 6A82, CARD_COMMUNICATION on other status words.
        """
        response = self.channel.transmit(_SELECT_FILE.get(file_id) or _select_file_command(file_id))
        if response.sw == StatusWord.FILE_NOT_FOUND:
            raise KioskError("CARD_RECORD_MISSING", f"SELECT {file_id:04X} answered 6A82")
        if response.sw != StatusWord.OK:
            raise _unexpected(response, f"SELECT {file_id:04X}")
        self._selected_file = file_id

    def read_item(self, tag: int, required: bool = True) -> bytes | None:
        """Read one item by its tag (`00 B2 <tag> 00 <Le>`) from the file that holds it.

        Returns:
            The item's value; None when an optional item is absent (6A83).
        Raises:
            KioskError: CARD_RECORD_MISSING when a required item is absent, CARD_DATA_INVALID
                when the record is broken or carries another tag, CARD_NEEDS_PSAM (or
                CARD_AUTH_FAILED after an authentication) on 6982, CARD_COMMUNICATION otherwise.
        """
        item = ITEMS[tag]
        if self._selected_file != item.file_id:
            self.select_file(item.file_id)
        response = self.channel.transmit(item.read_command)
        if response.sw == StatusWord.OK and len(response.data) >= 2 and response.data[1] + 2 > len(response.data):
            # ISO 7816-4 lets a card answer the first Le bytes of a longer record with 9000: read it again as long
            # as its TLV says (one more APDU, for such cards only). A short APDU carries at most 256 bytes.
            declared = response.data[1] + 2
            if declared > 256:
                raise _invalid(f"record {tag:02X} declares {declared} bytes, more than one READ RECORD returns")
            response = self.channel.transmit(item.read_command.with_le(declared))
        # 6282: the record is shorter than asked; what came back is the whole record.
        if response.sw in (StatusWord.OK, StatusWord.END_OF_RECORD):
            record = parse_tlv(response.data, item.filler)
            if record.tag != tag:
                raise _invalid(f"asked for item {tag:02X}, the card answered item {record.tag:02X}")
            return record.value
        if response.sw == StatusWord.RECORD_NOT_FOUND:
            if required:
                raise KioskError("CARD_RECORD_MISSING", f"item {tag:02X} of {item.file_id:04X}: 6A83")
            return None
        if response.sw == StatusWord.SECURITY_NOT_SATISFIED:
            if self._authenticated:
                raise KioskError("CARD_AUTH_FAILED", f"item {tag:02X}: 6982 after external authentication")
            raise KioskError("CARD_NEEDS_PSAM", f"item {tag:02X} of {item.file_id:04X}: 6982")
        raise _unexpected(response, f"READ RECORD {tag:02X}")

    def _text(self, tag: int) -> str:
        return decode_an(self.read_item(tag) or b"")

    def _date(self, tag: int, what: str, required: bool, earliest: date, latest: date) -> date | None:
        day = decode_cn_date(self.read_item(tag) or b"")
        if day is None:
            if required:
                raise _missing(what)
            return None
        if not earliest <= day <= latest:
            # The year only: a birth date is personal data.
            raise _invalid(f"{what} in the year {day.year} is impossible")
        return day

    def read_issuer(self) -> CardIssuer:
        """Read EF05, which every card shows without authentication.

        Raises:
            KioskError: as `read_item`; CARD_DATA_MISSING for an empty expiry date or card number;
                CARD_DATA_INVALID for values that do not fit or cannot be (an expiry in 8187).
        """
        card_id_code = self.read_item(0x01) or b""
        if len(card_id_code) != 16:
            raise _invalid(f"card identification code has {len(card_id_code)} bytes, not 16")
        card_type = self._text(0x02)
        if len(card_type) != 1:
            raise _invalid(f"card type of {len(card_type)} characters")
        spec_version = self._text(0x03)
        if spec_version not in ("1.00", "2.00", "3.00"):
            raise _invalid(f"unknown specification version {spec_version[:8]!r}")
        init_org = decode_cn(self.read_item(0x04) or b"")
        if len(init_org) > MAX_ORG_DIGITS:
            raise _invalid(f"organisation number of {len(init_org)} digits")
        issue_date = self._date(0x05, "issue date", False, *CARD_DATES)
        expiry_date = self._date(0x06, "expiry date", True, issue_date or CARD_DATES[0], CARD_DATES[1])
        card_number = self._text(0x07)
        if not card_number:
            raise _missing("card number")
        if len(card_number) != 9 or not card_number.isascii() or not card_number.isalnum():
            raise _invalid(f"card number of {len(card_number)} characters is not 9 letters or digits")
        return CardIssuer(card_id_code, card_type, spec_version, init_org, issue_date, expiry_date, card_number)

    def authenticate(self, key_holder: KeyHolder, card_id_code: bytes, key_ref: int = EXTERNAL_AUTH_KEY_REF) -> None:
        """External authentication: GET CHALLENGE, cryptogram from the key holder, EXTERNAL AUTHENTICATE.

        Raises:
            KioskError: CARD_AUTH_FAILED when the card refuses the cryptogram, what the key
                holder raises (PSAM_UNAVAILABLE, CARD_AUTH_FAILED), CARD_COMMUNICATION otherwise.
        """
        response = self.channel.transmit(CommandApdu(0x00, 0x84, 0x00, 0x00, le=CHALLENGE_LENGTH))
        if response.sw != StatusWord.OK:
            raise _unexpected(response, "GET CHALLENGE")
        if len(response.data) != CHALLENGE_LENGTH:
            raise _invalid(f"challenge of {len(response.data)} bytes")
        cryptogram = key_holder.cryptogram(card_id_code, response.data)
        response = self.channel.transmit(CommandApdu(0x00, 0x82, 0x00, key_ref, cryptogram))
        if response.sw == StatusWord.OK:
            self._authenticated = True
            return
        # 63xx wrong cryptogram, 69xx key blocked or no challenge, 6A88 no such key: all refusals.
        if response.sw >> 8 in (0x63, 0x69) or response.sw == StatusWord.REFERENCED_DATA_NOT_FOUND:
            raise KioskError("CARD_AUTH_FAILED", f"EXTERNAL AUTHENTICATE answered {sw_text(response.sw)}")
        raise _unexpected(response, "EXTERNAL AUTHENTICATE")

    def read_holder(self, spec_version: str) -> CardHolder:
        """Read EF06; on 3.00 cards call `authenticate` first. The name extension (4E) of 3.00 cards is joined to the name.

        Raises:
            KioskError: as `read_item`, and CARD_DATA_INVALID for values that do not fit.
        """
        resident_id = self._text(0x08)
        if not resident_id:
            raise _missing("social security number")
        today = date.today()
        try:
            # Checked by meaning: characters, birth date, check character; the area at province level only (a
            # county code missing from the kiosk's list must not turn a guardian away).
            resident_id = ResidentId.parse(resident_id, today, county_level=False).text
        except ResidentIdError as error:
            raise _invalid(f"social security number: {error.reason.value} at {error.position}") from None
        name = self._text(0x09)
        if spec_version >= "3.00":
            name += decode_an(self.read_item(0x4E, required=False) or b"")
        if not name:
            raise _invalid("the holder's name is empty")
        sex = self._text(0x0A)
        if sex not in ("1", "2"):
            raise _invalid(f"gender of {len(sex)} characters is neither 1 nor 2")
        nation = decode_cn(self.read_item(0x0B) or b"")
        birthplace = decode_cn(self.read_item(0x0C) or b"")
        if len(nation) != 2 or len(birthplace) != 6:
            raise _invalid(f"nation of {len(nation)} or birthplace of {len(birthplace)} digits")
        birth_date = self._date(0x0D, "birth date", True, EARLIEST_BIRTH, today)
        return CardHolder(resident_id, name, sex, nation, birthplace, birth_date)

    def pin_tries_left(self) -> int | None:
        """Ask the try counter with VERIFY without data (`00 20 00 00`, ISO 7816-4); it uses no try.

        Returns:
            The tries left (0 when blocked), or None when the card does not say (6700, 6A86, ...)
            or the PIN is already verified (9000).
        Raises:
            KioskError: what the connection raises (CARD_REMOVED, ...).
        """
        response = self.channel.transmit(CommandApdu(0x00, 0x20, 0x00, 0x00))
        if response.sw == StatusWord.AUTH_METHOD_BLOCKED:
            return 0
        return pin_tries_left(response.sw)

    def verify_pin(self, pin: str) -> PinResult:
        """Send VERIFY (`00 20 00 00 03 <PIN as BCD>`).

        Returns:
            VERIFIED on 9000; WRONG with x tries on 63Cx (BLOCKED when x is 0); WRONG with
            tries_left None on 6300; BLOCKED on 6983.
        Raises:
            KioskError: PIN_FORMAT when the PIN cannot be packed (nothing is sent),
                CARD_COMMUNICATION on other status words, and what the connection raises.
        """
        try:
            pin_bcd = pin_to_bcd(pin)
        except ValueError:
            raise KioskError("PIN_FORMAT", "PIN is not 4 to 12 digits") from None
        response = self.channel.transmit(CommandApdu(0x00, 0x20, 0x00, 0x00, pin_bcd))
        return _pin_result(response)

    def verify_pin_on_pad(self, entered: Callable[[], None] | None = None) -> PinResult:
        """Let the reader's PIN pad take the PIN and send the same VERIFY (`00 20 00 00 03 <PIN>`) itself.

        The same answers as `verify_pin`; the pad's own "timed out" or "cancelled" (64xx) raise
        PIN_PAD_CANCELLED: no try was spent.
        """
        answer = self.channel.connection.verify_on_pin_pad(PinPadVerify(pin_length=PIN_LENGTH), entered)
        if answer[-2:] in (SW_PAD_TIMEOUT, SW_PAD_CANCELLED):
            raise KioskError("PIN_PAD_CANCELLED", f"the PIN pad answered {answer[-2:].hex()}")
        if len(answer) < 2:
            raise KioskError("CARD_COMMUNICATION", "the PIN pad answered without a status word")
        return _pin_result(ResponseApdu.from_bytes(answer))


def _pin_result(response: ResponseApdu) -> PinResult:
    """What a VERIFY's answer says of the PIN (typed on the kiosk or on the reader's pad alike)."""
    if response.sw == StatusWord.OK:
        return PinResult(PinStatus.VERIFIED)
    tries = pin_tries_left(response.sw)
    if tries is not None:
        return PinResult(PinStatus.BLOCKED, 0) if tries == 0 else PinResult(PinStatus.WRONG, tries)
    if response.sw == StatusWord.VERIFICATION_FAILED:
        return PinResult(PinStatus.WRONG, None)
    if response.sw == StatusWord.AUTH_METHOD_BLOCKED:
        return PinResult(PinStatus.BLOCKED, 0)
    raise _unexpected(response, "VERIFY")
