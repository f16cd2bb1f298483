"""Personal numbers (ID numbers, bank accounts): mask for display, keyed hash for dedup.

The clear number lives only inside events, sealed there under the person's own data key where the
service declares it (kernel.personal) and encrypted at rest by the event store. Everything
else — views, bus messages, responses, logs — sees the mask, and dedup compares keyed hashes so
that a leaked view cannot be reversed by hashing all 10^17 possible ID numbers.
"""

import hashlib
import hmac
import unicodedata

from kernel.personal import ERASED


def normalise(number):
    """One form per number, before validation and before hashing: Unicode NFKC (full-width digits
    become ASCII), no whitespace, invisible or control characters, upper case (ID numbers' X)."""
    if type(number) is str and number.isascii() and number.isalnum():
        return number.upper()  # the common case, which NFKC and the filter leave as it is
    text = unicodedata.normalize("NFKC", str(number))
    return "".join(
        c for c in text if not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc")
    ).upper()


def mask(number):
    """``371321198001011234`` → ``3713**********1234`` (keeps 4 + 4 characters); erased stays so."""
    if not number or number == ERASED:
        return number
    number = normalise(number)
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def keyed_hash(key, number):
    return hmac.new(key.encode(), normalise(number).encode(), hashlib.sha256).hexdigest()


def mask_fields(payload, personal_fields):
    """A copy of ``payload`` with every personal field masked, at any depth."""
    if isinstance(payload, dict):
        return {
            k: mask(v)
            if k in personal_fields and isinstance(v, str)
            else mask_fields(v, personal_fields)
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [mask_fields(v, personal_fields) for v in payload]
    return payload
