"""Teachers' PINs for signing in on a classroom machine: a slow salted hash (stdlib PBKDF2-SHA256).

The hub stores only the hash (staff set the PIN) and pulls it down to devices in the `teacher` entity as
`pin_hash`; the classroom app checks a typed PIN against it offline.

    >>> stored = hash_pin("4821")
    >>> stored.startswith("pbkdf2_sha256$")
    True
    >>> verify_pin("4821", stored), verify_pin("0000", stored)
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ITERATIONS = 200_000
SCHEME = "pbkdf2_sha256"
PIN = re.compile(r"[0-9]{4,8}")


def valid_pin(pin: str) -> bool:
    """Whether a PIN has the allowed shape: 4 to 8 digits."""
    return bool(PIN.fullmatch(pin))


def new_pin() -> str:
    """A random 4-digit PIN."""
    return f"{secrets.randbelow(10_000):04d}"


def hash_pin(pin: str, *, iterations: int = ITERATIONS, salt: str | None = None) -> str:
    """`pbkdf2_sha256$<iterations>$<salt>$<hash hex>` for a PIN."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), iterations).hex()
    return f"{SCHEME}${iterations}${salt}${digest}"


def verify_pin(pin: str, stored: str | None) -> bool:
    """Whether `pin` matches a stored hash; False for a missing or malformed hash."""
    if not stored:
        return False
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME or not parts[1].isdigit():
        return False
    iterations = int(parts[1])
    if not 1 <= iterations <= 10_000_000:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), parts[2].encode(), iterations).hex()
    return hmac.compare_digest(digest, parts[3])
