"""Masking of personal data (DOMAIN.md §6, PIPL art. 28): what anyone may see of a reporter or a resident.

Phone numbers keep their first 3 and last 4 digits (``138****5678``), ID numbers their first 4 and
last 4 (``1101**********1234``), names their first character (``张*``). Pure functions.
"""
from __future__ import annotations

import re

# An 18-character resident ID (17 digits and a digit or X); a mainland mobile number, written with or
# without +86 and with spaces or hyphens between its groups; any other run of 7+ digits (a landline,
# a bank card); an e-mail address. Masked in that order.
_ID = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])((?:\+?86[ -]?)?1[3-9][0-9])[ -]?[0-9]{4}[ -]?([0-9]{4})(?![0-9])")
_DIGITS = re.compile(r"(?<![0-9*])([0-9]{2})[0-9]{3,}([0-9]{2})(?![0-9])")
_EMAIL = re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# A run of CJK characters (a Chinese name), or a word of letters (a Latin name).
_HAN = re.compile(r"[\u3400-\u9fff]{2,}")
_LATIN = re.compile(r"(?<![@.])\b[A-Za-z]{2,}\b(?![@.][A-Za-z])")


def mask_phone(phone: str) -> str:
    """Return ``13812345678`` as ``138****5678``."""
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", phone)


def mask_id(number: str) -> str:
    """Return an 18-character ID number as ``1101**********1234``."""
    return _ID.sub(lambda m: f"{m.group(1)}{'*' * 10}{m.group(2)}", number)


def mask_numbers(text: str | None) -> str | None:
    """Mask ID numbers, phone numbers, other long numbers and e-mail addresses in free text (a description)."""
    if text is None:
        return None
    text = mask_id(text)
    text = mask_phone(text)
    text = _DIGITS.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 4) + m.group(2), text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def mask_text(text: str | None) -> str | None:
    """Mask everything personal in a field that names a person (a reporter): numbers, e-mails and names."""
    if text is None:
        return None
    text = mask_numbers(text)
    text = _HAN.sub(lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), text)
    return _LATIN.sub(lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), text)
