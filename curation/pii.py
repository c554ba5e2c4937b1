"""PII scrubbing: e-mail addresses, phone numbers, Chinese resident ID numbers and IP addresses become
typed placeholders (<EMAIL>, <PHONE>, <ID_NUMBER>, <IP>). A scrub is counted, never a rejection.

Chinese ID numbers are checked with their ISO 7064 MOD 11-2 check digit, IPv4 octets must be <= 255, so
ordinary long numbers (order numbers, statistics) are left alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
CN_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
# Mainland mobile numbers (optionally +86), with optional separators; international numbers with a + prefix.
PHONE_RE = re.compile(
    r"(?<![\d+])(?:(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}"
    r"|\+\d{1,3}[-\s]?\(?\d{1,4}\)?(?:[-\s]?\d{2,4}){2,4}"
    r"|\(\d{3}\)\s?\d{3}-\d{4}|\b\d{3}-\d{3}-\d{4}\b"
    r"|0\d{2,3}-\d{7,8})(?!\d)"
)
IPV4_RE = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)"
)  # not inside a longer dotted number (a version 1.2.3.4.5); a sentence's full stop may follow
IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])")

# Cheap necessary conditions, checked first: most documents hold no PII, and the full patterns are slow.
# _MAYBE_DIGITS is necessary for a phone and an ID number (17 digits in a row); the placeholders put in for other
# kinds hold no digit, so a text without it has neither after them either.
_MAYBE_DIGITS = re.compile(r"\d(?:\d{6}|[-\s]\d{3,4}[-\s]?\d)|\+\d|\(\d{3}\)")
_MAYBE_ID = re.compile(r"\d{17}")
_MAYBE_IPV4 = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_cn_id(number: str) -> bool:
    """True when an 18-character Chinese resident ID number has a correct check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


@dataclasses.dataclass(frozen=True)
class PiiConfig:
    """Which kinds of PII are replaced by placeholders."""

    enabled: bool = True
    email: bool = True
    phone: bool = True
    id_number: bool = True  # Chinese resident ID numbers with a valid check digit
    ip: bool = True


def scrub(text: str, config: PiiConfig) -> tuple[str, Counter[str]]:
    """Text with PII replaced, and how many of each kind were replaced."""
    counts: Counter[str] = Counter()
    if not config.enabled:
        return text, counts
    if config.email and "@" in text:
        text, n = EMAIL_RE.subn("<EMAIL>", text)
        counts["email"] += n
    digits = (config.id_number or config.phone) and _MAYBE_DIGITS.search(text) is not None
    if config.id_number and digits and _MAYBE_ID.search(text):

        def _id(m: re.Match[str]) -> str:
            if valid_cn_id(m.group(0)):
                counts["id_number"] += 1
                return "<ID_NUMBER>"
            return m.group(0)

        text = CN_ID_RE.sub(_id, text)
    if config.ip and "." in text and _MAYBE_IPV4.search(text):
        text, n = IPV4_RE.subn("<IP>", text)
        counts["ip"] += n
    if config.ip and text.count(":") >= 7:  # an IPv6 address has seven
        text, n = IPV6_RE.subn("<IP>", text)
        counts["ip"] += n
    if config.phone and digits:
        text, n = PHONE_RE.subn("<PHONE>", text)
        counts["phone"] += n
    return text, +counts if counts else counts
