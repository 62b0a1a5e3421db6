"""How many SMS segments a text takes, counted the way GSM 03.38 and UCS-2 do.

A text made only of GSM-7 characters takes 160 septets in one SMS, 153 per part when concatenated; the
characters of the extension table (`{ } [ ] ~ \\ | ^ €`) take two septets each, and a part never splits such a
pair. Any other character (Cyrillic, say) makes the whole text UCS-2: 70 UTF-16 units in one SMS, 67 per part
concatenated; a character outside the BMP (an emoji) takes two units and is not split between parts.
"""

from __future__ import annotations

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("\f^{}\\[~]|€")


def is_gsm(text: str) -> bool:
    """Whether every character is in the GSM-7 alphabet (basic or extension table)."""
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def _units(text: str) -> tuple[list[int], int, int]:
    """Each character's size in the text's encoding, and the single / per-part capacity."""
    if is_gsm(text):
        return [2 if c in GSM_EXTENDED else 1 for c in text], 160, 153
    return [2 if ord(c) > 0xFFFF else 1 for c in text], 70, 67


def segments(text: str) -> int:
    """The number of SMS a text is sent as (0 for an empty text)."""
    sizes, single, part = _units(text)
    if sum(sizes) <= single:
        return 1 if text else 0
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def encoding(text: str) -> str:
    """`GSM-7` or `UCS-2`."""
    return "GSM-7" if is_gsm(text) else "UCS-2"
