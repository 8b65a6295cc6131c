"""Provides the error catalogue: stable code -> guardian text (zh/en) -> next step -> retriable or final."""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.text import LocalText


@dataclass(frozen=True)
class ErrorEntry:
    """One catalogued failure."""

    code: str
    text: LocalText  # what happened, in plain words
    next_step: LocalText  # what the guardian can do now
    retriable: bool  # True: trying again may work; False: this visit cannot go on this way
    technician: str  # what a technician should look at


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


def _e(code: str, zh: str, en: str, next_zh: str, next_en: str, retriable: bool, technician: str) -> ErrorEntry:
    return ErrorEntry(code, LocalText(zh, en), LocalText(next_zh, next_en), retriable, technician)


_ENTRIES = [
    # Reader and card
    _e("READER_UNAVAILABLE", "读卡器暂时无法使用。", "The card reader is not available.",
       "请使用其他自助机，或到人工窗口办理。", "Please use another kiosk or go to a service counter.", True,
       "No usable reader: check the PC/SC service (pcscd), the reader cable and the reader settings."),
    _e("READER_LOST", "读卡器连接中断。", "The connection to the card reader was lost.",
       "请取回您的卡，稍后再试。", "Please take your card and try again in a moment.", True,
       "The reader disappeared during a session (unplugged, or pcscd restarted)."),
    _e("READER_BUSY", "读卡器正被其他程序占用。", "The card reader is busy.",
       "请稍候再试；仍不行请联系工作人员。", "Please try again in a moment; if it stays busy, ask a member of staff.", True,
       "Sharing violation: another program holds the card or reader exclusively."),
    _e("CARD_ABSENT", "读卡器中没有卡。", "There is no card in the reader.",
       "请将社保卡芯片朝上插入读卡器。", "Please insert your social security card, chip first and facing up.", True,
       "Connect found no card in the reader."),
    _e("CARD_MUTE", "无法读取这张卡。", "This card cannot be read.",
       "请取出卡，擦拭芯片后重新插入；仍不行请到人工窗口。",
       "Take the card out, wipe the chip and insert it again; if it still fails, go to a service counter.", True,
       "The card gave no ATR (mute card, dirty contacts or inserted the wrong way)."),
    _e("CARD_REMOVED", "卡被取出了。", "The card was taken out.",
       "如需继续，请重新插入社保卡。", "To continue, insert your social security card again.", True,
       "The card left the reader during a command; nothing was counted against the PIN."),
    _e("CARD_UNSUPPORTED", "本机无法与这张卡通信。", "This kiosk cannot talk to this card.",
       "请确认插入的是社会保障卡；仍不行请到人工窗口。",
       "Check that it is your social security card; if it still fails, go to a service counter.", False,
       "The reader or driver refused the card (unsupported card, or no common protocol T=0/T=1)."),
    _e("CARD_NOT_SOCIAL_SECURITY", "这不是社会保障卡。", "This is not a social security card.",
       "请插入您本人的社会保障卡（不是银行卡或身份证）。",
       "Please insert your own social security card (not a bank card or ID card).", False,
       "SELECT of the SSSE application answered 6A82."),
    _e("CARD_DATA_INVALID", "卡内信息无法识别。", "The information on this card could not be understood.",
       "请到人工窗口检查您的社保卡。", "Please have your card checked at a service counter.", False,
       "The card answered, but with data that does not fit the specification (wrong tag, bad TLV, bad encoding)."),
    _e("CARD_RECORD_MISSING", "卡内缺少必要信息。", "Some required information is missing from the card.",
       "请到人工窗口检查您的社保卡。", "Please have your card checked at a service counter.", False,
       "READ RECORD answered 6A83 (record not found) or the file is missing."),
    _e("CARD_NEEDS_PSAM", "本机无法读取您这张第三代社保卡。", "This kiosk cannot read your third-generation card.",
       "请到配有第三代卡读卡模块的自助机或人工窗口办理，也可以在手机App上办理。",
       "Please use a kiosk that reads third-generation cards, a service counter, or the mobile app.", False,
       "3.00 card: EF06 needs external authentication and no PSAM (key holder) is available."),
    _e("CARD_AUTH_FAILED", "社保卡安全认证没有通过。", "The card's security check did not pass.",
       "请取出卡后重新插入；仍不行请到人工窗口。",
       "Take the card out and insert it again; if it still fails, go to a service counter.", True,
       "EXTERNAL AUTHENTICATE was refused, or the PSAM could not compute the cryptogram."),
    _e("CARD_COMMUNICATION", "读卡时出现问题。", "Something went wrong while reading the card.",
       "请取出卡后重新插入。", "Please take the card out and insert it again.", True,
       "A transmit failed or the card answered with an unexpected status word."),
    _e("PSAM_UNAVAILABLE", "本机的安全模块暂时无法使用。", "This kiosk's security module is not available.",
       "请使用其他自助机，或到人工窗口办理。", "Please use another kiosk or go to a service counter.", True,
       "The PSAM slot holds no working PSAM."),
    # PIN
    _e("PIN_WRONG", "密码不正确。", "The PIN is not correct.",
       "请重新输入社保卡密码。", "Please enter your card PIN again.", True,
       "VERIFY answered 63Cx or 6300."),
    _e("PIN_BLOCKED", "社保卡密码已锁定。", "Your card PIN is locked.",
       "请带上身份证和社保卡到人工窗口或社保卡服务网点解锁密码。",
       "Bring your ID card and social security card to a service counter to unlock the PIN.", False,
       "VERIFY answered 6983, or the last try was used."),
    _e("PIN_FORMAT", "密码应为6位数字。", "The PIN has 6 digits.",
       "请输入6位数字密码。", "Please enter your 6-digit PIN.", True,
       "The PIN typed was not 6 digits; nothing was sent to the card."),
    # Child ID entry
    _e("CHILD_ID_FORMAT", "身份证号码格式不正确。", "That ID number is not valid.",
       "请核对孩子的18位身份证号码（最后一位可能是X）后重新输入。",
       "Check the child's 18-character ID number (the last one may be X) and type it again.", True,
       "The child ID failed the format, date or MOD 11-2 check."),
    # Activation
    _e("ACTIVATION_UNKNOWN", "找不到这个激活码。", "This activation code is not known.",
       "请核对屏幕上的激活码。", "Check the code shown on the kiosk screen.", False,
       "No ticket matches the token or user code."),
    _e("ACTIVATION_USED", "这个激活码已经使用过。", "This activation code has already been used.",
       "如需重新激活，请回到自助机重新办理。", "To activate again, start again at the kiosk.", False,
       "The ticket was already used."),
    _e("ACTIVATION_EXPIRED", "这个激活码已过期。", "This activation code has expired.",
       "请在自助机上获取新的二维码。", "Get a new QR code at the kiosk.", False,
       "The ticket expired or was replaced by a newer one."),
    # Service
    _e("DATABASE_UNAVAILABLE", "系统暂时无法办理业务。", "The service is temporarily unavailable.",
       "请稍后再试，或到人工窗口办理。您已提交的申请不会丢失。",
       "Please try again later or go to a service counter. Anything you already submitted is kept.", True,
       "The registry database could not be reached or refused a write."),
    _e("SESSION_TIMEOUT", "长时间没有操作，本次办理已结束。", "This session ended because nothing happened for a while.",
       "请取回您的社保卡。", "Please take your card.", False,
       "Idle timeout."),
    _e("OUT_OF_SERVICE", "本机暂停服务。", "This kiosk is out of service.",
       "请使用其他自助机，或到人工窗口办理。", "Please use another kiosk or go to a service counter.", True,
       "Out of service (reader, database or configuration)."),
    _e("INTERNAL", "系统出现了问题。", "Something went wrong in the kiosk.",
       "请取回您的社保卡，稍后再试。", "Please take your card and try again later.", True,
       "Unexpected exception; see the kiosk log."),
]

CATALOGUE: dict[str, ErrorEntry] = {entry.code: entry for entry in _ENTRIES}
