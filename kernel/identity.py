"""Resident ID numbers (居民身份证号码, GB 11643) as issued: normalise, validate, upgrade.

The rules (one place for each):
- normalised first (kernel.pii.normalise, the form hashed too): Unicode NFKC (full-width digits and
  Ｘ become ASCII), spaces and invisible characters removed, ``x`` upper-cased;
- 18 characters: a six-digit region code, the birth date ``YYYYMMDD``, a three-digit sequence and
  the ISO 7064 MOD 11-2 check character (python-stdnum computes it);
- the region code exists in ANY edition of GB/T 2260 (kernel.places): a number keeps the code in
  force where and when it was issued, which may be younger than its holder or long retired
  (412723), so the code is never checked against the birth year;
- the birth date is a real date, not in the future and not before 1900;
- a 15-digit first-generation number (issued until 1999, birth year in two digits, no check
  character) is upgraded by the official rule — ``19`` before the year, then the check character
  — so that one person is one number, and one keyed hash, whichever card they show.
"""

from datetime import date

from stdnum.cn import ric, uscc

from kernel.pii import normalise
from kernel.places import region_code_exists

EARLIEST_BIRTH = date(1900, 1, 1)


class IdNumberError(ValueError):
    """What is wrong with an ID number, naming the part (length, region, birth date, check)."""


def check_character(first17):
    """ISO 7064 MOD 11-2 over the first 17 digits (stdnum's function reads all but the last)."""
    return ric.calc_check_digit(first17 + "0")


def canonical_id_number(text, today=None):
    """The 18-character number ``text`` is (a 15-digit one upgraded); IdNumberError otherwise."""
    number = normalise(text)
    if len(number) == 15:
        if not number.isdigit():
            raise IdNumberError("a 15-digit ID number has digits only")
        number = number[:6] + "19" + number[6:]
        number += check_character(number)
    if len(number) != 18:
        raise IdNumberError(
            f"an ID number has 18 characters (or 15 for a first-generation card), not {len(number)}"
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("an ID number is 17 digits and a check character (a digit or X)")
    if not region_code_exists(number[:6]):
        raise IdNumberError(f"region code {number[:6]} is in no edition of GB/T 2260")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(f"birth date {number[6:14]} is not a date") from None
    if born > (today or date.today()):
        raise IdNumberError(f"birth date {born.isoformat()} is in the future")
    if born < EARLIEST_BIRTH:
        raise IdNumberError(f"birth date {born.isoformat()} is before {EARLIEST_BIRTH.year}")
    if check_character(number[:17]) != number[17]:
        raise IdNumberError(
            "the check character does not match the other 17 (GB 11643, ISO 7064 MOD 11-2)"
        )
    return number


# GB 32100: the first character names the registering authority (1 机构编制, 5 民政, 9 工商, A-Y
# others), the second the kind of organisation; characters 3-8 are the authority's region code.
_AUTHORITIES = "123456789ANY"
NATIONAL_REGION = (
    "100000"  # organisations registered by a national authority (中国农学会: 51100000…)
)


class CreditCodeError(ValueError):
    """What is wrong with a unified social credit code, naming the part."""


def canonical_credit_code(text):
    """The 18-character unified social credit code (统一社会信用代码, GB 32100) ``text`` is:
    normalised like an ID number (NFKC, no spaces, upper case), then its registering authority,
    its region code (any edition of GB/T 2260, or the national authorities' 100000) and its
    check character (python-stdnum) checked — a checksum alone passes 000000000000000000."""
    code = normalise(text)
    if len(code) != 18:
        raise CreditCodeError(f"a credit code has 18 characters, not {len(code)}")
    if code[0] not in _AUTHORITIES or not code[1].isdigit() or code[1] == "0":
        raise CreditCodeError(f"{code[:2]} names no registering authority and kind of organisation")
    if not code[2:8].isdigit() or not (
        code[2:8] == NATIONAL_REGION or region_code_exists(code[2:8])
    ):
        raise CreditCodeError(f"region code {code[2:8]} is in no edition of GB/T 2260")
    try:
        return uscc.validate(code)
    except ValueError:
        raise CreditCodeError(
            "the check character does not match the other 17 (GB 32100)"
        ) from None
