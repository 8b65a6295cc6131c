"""Provides masking of personal data for screens and logs: names, ID numbers, card numbers."""
from __future__ import annotations

import re


def mask_name(name: str) -> str:
    """Keep the family name (and the last character of a long name): 张伟 -> 张*, 李思远 -> 李*远."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    if all(ord(ch) < 128 for ch in name):
        # Latin names: first letter of each word.
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(resident_id: str) -> str:
    """Keep the first 4 and last 4 characters of an ID number: 4301**********0016."""
    if len(resident_id) <= 8:
        return "*" * len(resident_id)
    return resident_id[:4] + "*" * (len(resident_id) - 8) + resident_id[-4:]


def mask_card_number(card_number: str) -> str:
    """Keep the first and last 2 characters of a card number: L4*****01."""
    if len(card_number) <= 4:
        return "*" * len(card_number)
    return card_number[:2] + "*" * (len(card_number) - 4) + card_number[-2:]


_ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Mask anything in free text that looks like an 18-character resident ID number."""
    return _ID_PATTERN.sub(lambda m: mask_id(m.group(0)), text)
