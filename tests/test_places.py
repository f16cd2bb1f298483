"""Unit tests of the canonical places and units (kernel.places) and of ID numbers as issued
(kernel.identity), against python-stdnum's GB/T 2260 table of every edition. No servers."""

import pytest

from kernel import pii
from kernel.identity import (
    CreditCodeError,
    IdNumberError,
    canonical_credit_code,
    canonical_id_number,
    check_character,
)
from kernel.places import Place, PlaceError, Unit


def issued(first17):
    """An ID number with the check character computed (ISO 7064 MOD 11-2)."""
    return first17 + check_character(first17)


def wrong_check(first17):
    right = check_character(first17)
    return first17 + ("0" if right != "0" else "1")


# -- issue 13 item 5: one place, however it is written --------------------------------------


@pytest.mark.parametrize(
    "written",
    ["山东", "山東", "山东 ", "⼭东", "山东\u200b", "山东省", "\ufeff山东", " 山 东 ", "山東省"],
)
def test_every_spelling_of_a_province_is_one_canonical_province(written):
    """Issue 13 item 5: full/short names, traditional forms, Kangxi radicals, stray whitespace and
    invisible characters all name 山东."""
    assert Place.parse({"province": written}).province == "山东"
    assert str(Unit.parse(f"province:{written}")) == "province:山东"


@pytest.mark.parametrize(
    "written, canonical",
    [
        ("county:山东省/临沂市/沂南县", "county:山东/临沂/沂南"),
        ("county:山西/吕梁/岚县", "county:山西/吕梁/岚县"),  # a one-character stem keeps its suffix
        ("county:山西省/吕梁市/岚县", "county:山西/吕梁/岚县"),
        ("province:内蒙古自治区", "province:内蒙古"),
        ("province:广西壮族自治区", "province:广西"),
        ("province:新疆维吾尔自治区", "province:新疆"),
        ("city:吉林/延边朝鲜族自治州", "city:吉林/延边"),
        ("county:湖北/恩施土家族苗族自治州/利川市", "county:湖北/恩施/利川"),
        ("county:北京/北京/朝阳区", "county:北京/北京/朝阳"),  # a municipality is its own city
        ("county:北京市/市辖区/朝阳区", "county:北京/北京/朝阳"),
        ("city:湖北/仙桃市", "city:湖北/仙桃"),  # a province-administered city
        ("county:湖北/省直辖县级行政单位/仙桃市", "county:湖北/仙桃/仙桃"),
        ("county:陕西/咸阳/乾县", "county:陕西/咸阳/乾县"),  # not turned into 干县 by the converter
        ("society:  中国农学会\u200b", "society:中国农学会"),
        ("national", "national"),
    ],
)
def test_units_are_canonical(written, canonical):
    assert str(Unit.parse(written)) == canonical


def test_places_valid_in_any_edition_are_accepted():
    """莱芜市 (merged into 济南 in 2019), 商水县 under 周口地区 (until 2000), 苍山县 (兰陵 since 2014)."""
    assert Place.parse({"province": "山东", "city": "莱芜市", "county": "莱城区"}).to_dict() == {
        "province": "山东",
        "city": "莱芜",
        "county": "莱城",
        "township": None,
        "village": None,
    }
    assert Place.parse({"province": "山东", "city": "济南", "county": "莱芜区"}).county == "莱芜"
    assert Place.parse({"province": "河南", "city": "周口地区", "county": "商水县"}).city == "周口"
    assert Place.parse({"province": "山东", "city": "临沂", "county": "苍山县"}).county == "苍山"


def test_a_code_reused_for_another_place_puts_each_county_under_its_own_city():
    """浙江 3326 named 丽水地区 until 1982 and 台州地区 after; 临海县 was in 台州, not in 丽水."""
    assert Place.parse({"province": "浙江", "city": "台州", "county": "临海"}).county == "临海"
    with pytest.raises(PlaceError):
        Place.parse({"province": "浙江", "city": "丽水", "county": "临海"})


@pytest.mark.parametrize(
    "location, field, message",
    [
        ({"province": "火星"}, "province", "no province 火星"),
        ({"province": "山东", "city": "临x"}, "city", "no city 临x in 山东"),
        (
            {"province": "山东", "city": "临沂", "county": "历下"},
            "county",
            "no county 历下 in 山东/临沂",
        ),
        ({"province": "山东", "city": "太原"}, "city", "no city 太原 in 山东"),
        ({"province": "山东", "county": "沂南"}, "city", "a county needs its city"),
        ({"city": "临沂"}, "province", "required"),
        ({"province": "山东", "village": "张庄\x07"}, "village", "contains control characters"),
        ({"province": "山东", "township": "镇" * 61}, "township", "longer than 60 characters"),
        ({"province": 37}, "province", "must be text"),
    ],
)
def test_a_place_that_is_not_one_names_the_wrong_part(location, field, message):
    """Issue 13 item 5: the hierarchy is checked (county inside the city inside the province)."""
    with pytest.raises(PlaceError) as refused:
        Place.parse(location)
    assert refused.value.details == {field: [message]}


def test_township_and_village_are_free_text_normalised():
    place = Place.parse(
        {
            "province": "山东",
            "city": "临沂",
            "county": "沂南",
            "township": " 马牧池乡 ",
            "village": "常山庄\u200d村",
        }
    )
    assert (place.township, place.village) == ("马牧池乡", "常山庄村")


@pytest.mark.parametrize(
    "written",
    [
        "province:",
        "province:山东/临沂",
        "county:山东/临沂",
        "city:火星/临沂",
        "town:山东",
        "society:",
        "society:中国/农学会",
        "society:" + "会" * 61,
        7,
    ],
)
def test_a_unit_that_is_not_one_is_a_value_error(written):
    with pytest.raises(ValueError):
        Unit.parse(written)


def test_units_know_their_lineage_and_what_they_cover():
    yinan = Unit.parse("county:山东/临沂/沂南")
    assert [str(u) for u in yinan.lineage] == [
        "national",
        "province:山东",
        "city:山东/临沂",
        "county:山东/临沂/沂南",
    ]
    assert yinan.province == "山东" and str(yinan.parent) == "city:山东/临沂"
    society = Unit.parse("society:中国农学会")
    assert society.lineage == (Unit.NATIONAL, society) and society.province is None
    assert Unit.NATIONAL.covers(society) and Unit.NATIONAL.covers(yinan)
    assert Unit.parse("province:山东省").covers(yinan) and not yinan.covers(
        Unit.parse("province:山东")
    )
    assert not Unit.parse("province:山东").covers(society) and society.covers(
        Unit.parse("society:中国农学会")
    )
    place = Place.parse({"province": "山东", "city": "临沂", "county": "沂南"})
    assert Unit.parse("city:山东/临沂").covers(place) and not Unit.parse("city:山东/济南").covers(
        place
    )
    assert not society.covers(place)
    assert [str(u) for u in place.units()] == [
        "province:山东",
        "city:山东/临沂",
        "county:山东/临沂/沂南",
    ]


# -- issue 13 item 1: real ID numbers register -----------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        issued("37132119650101001"),  # 沂南县 (code since 1994), holder born 1965
        issued("37010219700101002"),  # 历下区 (code since 1983), holder born 1970
        issued("41272319800101003"),  # 商水县 under 周口地区: a code retired in 2000
        issued("37283219400101004"),  # 沂南县's code under 临沂地区, retired in 1994
    ],
)
def test_id_numbers_as_issued_are_valid_whatever_the_region_codes_age(number):
    """Issue 13 item 1: the region code exists in some edition of GB/T 2260; it is never
    checked against the birth year (python-stdnum's ric.validate does, and refuses these)."""
    assert canonical_id_number(number) == number


def test_an_id_number_is_normalised_before_validation_and_hashing():
    """Issue 13 item 3: full-width digits, a lower-case x, spaces and invisible characters are
    the same number, and so the same keyed hash."""
    number = issued("11010519491231002")
    assert number.endswith("X")
    variants = [
        number.lower(),
        "１１０１０５１９４９１２３１００２Ｘ",
        f" {number[:6]} {number[6:]}\u200b",
    ]
    for variant in variants:
        assert canonical_id_number(variant) == number
        assert pii.keyed_hash("k", canonical_id_number(variant)) == pii.keyed_hash("k", number)


def test_a_first_generation_number_is_upgraded_to_its_18_character_form():
    """Issue 13 item 1: a 15-digit card and the 18-digit card of the same person are one number."""
    assert canonical_id_number("371321650101001") == issued("37132119650101001")


@pytest.mark.parametrize(
    "number, part",
    [
        (issued("37132120990101001"), "in the future"),
        (issued("37132118991231001"), "before 1900"),
        (issued("37132119650230001"), "not a date"),
        (issued("99999919650101001"), "region code 999999"),
        (wrong_check("37132119650101001"), "check character"),
        ("3713211965010100", "18 characters"),
        ("37132119650101001Y", "17 digits and a check character"),
        ("37132165010100X", "digits only"),
    ],
)
def test_an_invalid_id_number_says_which_part_is_wrong(number, part):
    """Issue 13 item 1."""
    with pytest.raises(IdNumberError, match=part):
        canonical_id_number(number)


def test_a_token_for_a_provinces_full_name_is_the_token_for_the_province():
    """Issue 13 item 5: ``mint`` and ``verify`` hold the scope canonical; a scope that is no unit
    (or not text) is refused."""
    import jwt

    from kernel import auth
    from kernel.errors import Unauthorized

    secret = "unit-test-secret-of-at-least-32-bytes"
    actor = auth.verify(secret, auth.mint(secret, "provincial_office", "province:山東省", "zhang"))
    assert actor.scope == "province:山东" and actor.unit == Unit("province", ("山东",))
    with pytest.raises(ValueError):
        auth.mint(secret, "provincial_office", "province:火星")
    for scope in ("province:火星", ["province:山东"], 37):
        claims = {"sub": "x", "role": "auditor", "scope": scope, "exp": 2**40}
        forged = jwt.encode(claims, secret, algorithm="HS256")
        with pytest.raises(Unauthorized):
            auth.verify(secret, forged)


def _credit(body17):
    from stdnum.cn import uscc

    return body17 + uscc.calc_check_digit(body17 + "0")


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341L",  # an enterprise registered in 北京
        _credit("51100000500000448"),  # a national society registered by 民政部 (region 100000)
        _credit("52371321MJ0000001"),  # an association registered in 沂南县
    ],
)
def test_real_credit_codes_are_valid_and_normalised(code):
    """Found beside issue 13: a checksum alone passes 000000000000000000; the registering
    authority and the region code are checked too, and full-width input is the same code."""
    assert canonical_credit_code(code) == code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert canonical_credit_code(f" {full_width.lower()} ") == code


@pytest.mark.parametrize(
    "code, part",
    [
        ("000000000000000000", "registering authority"),
        (_credit("91999999MA0000001"), "region code 999999"),
        ("91110000600037341X", "check character"),
        ("9111000060003734", "18 characters"),
    ],
)
def test_a_credit_code_that_is_not_one_says_which_part_is_wrong(code, part):
    with pytest.raises(CreditCodeError, match=part):
        canonical_credit_code(code)
