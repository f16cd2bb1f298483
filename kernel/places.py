"""Canonical places and units: one value object for where a record is and whom it is credited to.

Names are checked against the administrative division codes of GB/T 2260 in every edition since
1980, as python-stdnum ships them (``stdnum/cn/loc.dat``, kept from the published code lists, with
each name's years of validity). A place valid in ANY edition is accepted: records of 2016–2020
name 莱芜市, merged into 济南 in 2019, and ID numbers carry codes retired long ago.

Canonical names are the short names the API uses (山东, 临沂, 沂南); a name whose stem is one
character keeps its suffix (岚县, 郊区). Input is normalised first: Unicode NFKC (full-width forms,
Kangxi radicals such as ⼭), whitespace and invisible characters removed, full or short name,
traditional forms (OpenCC's t2s). Decisions where the division list has no city level:
- a municipality (北京, 天津, 上海, 重庆) is its own city: ``county:北京/北京/朝阳``; its placeholder
  city names (市辖区, 县) and an omitted city mean the municipality;
- a county-level city administered by its province (湖北 仙桃, 河南 济源, 海南 文昌, …) is its own city
  and its own county: ``city:湖北/仙桃``, ``county:湖北/仙桃/仙桃``; the placeholder city name
  (省直辖县级行政单位) before it is accepted.
The index is built once, lazily, and every lookup after that is a dictionary access.
"""

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

KINDS = ("national", "province", "city", "county", "society")
GEOGRAPHIC = ("province", "city", "county")
FREE_TEXT_MAX = 60
SOCIETY_MAX = 60

# Categories removed from names: format characters (zero-width space/joiner, BOM, bidi marks).
_INVISIBLE = {"Cf"}


class PlaceError(ValueError):
    """A place or unit that is not one; ``details`` maps each wrong field to its messages."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details or {}


# ---------------------------------------------------------------------------------------- text


def clean_text(value, field="value", max_length=FREE_TEXT_MAX):
    """Free text (a township, a village, a society): NFKC, invisible characters removed, stray
    whitespace trimmed and collapsed, bounded, no control characters. Returns None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PlaceError(f"{field} must be text", {field: ["must be text"]})
    text = unicodedata.normalize("NFKC", value)
    if any(unicodedata.category(c) == "Cc" and not c.isspace() for c in text):
        raise PlaceError(
            f"{field} contains control characters", {field: ["contains control characters"]}
        )
    text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    text = " ".join(text.split())
    if len(text) > max_length:
        raise PlaceError(
            f"{field} is longer than {max_length} characters",
            {field: [f"longer than {max_length} characters"]},
        )
    return text or None


def _name_key(value):
    """The lookup form of a division name: NFKC, no whitespace or invisible characters."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(
        c for c in text if not c.isspace() and unicodedata.category(c) not in _INVISIBLE | {"Cc"}
    )


_converter = None
_converter_lock = threading.Lock()


def _simplified(text):
    """OpenCC's traditional → simplified conversion (phrase-aware: 乾县 stays 乾县)."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)


# ---------------------------------------------------------------------------------- short names

# Suffixes of division names, longest first; what is left is the short name.
_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "特区",
    "省",
    "市",
    "盟",
    "县",
    "区",
    "旗",
)
# The 56 nationalities of GB/T 3304 (and 各族), which autonomous divisions name after their place.
_NATIONALITIES = sorted(
    (
        "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 "
        "纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 "
        "德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各"
    ).split(),
    key=len,
    reverse=True,
)
# Names the division list uses for "no city level here" (municipalities, province-administered cities).
_MUNICIPAL = ("市辖区", "县", "市", "郊县")
_PLACEHOLDERS = {*_MUNICIPAL, "市区", "林区"}
_DIRECT = re.compile(r"^(省|自治区)直辖县级行政(单位|区划)$")


def short_name(full):
    """山东省 → 山东, 广西壮族自治区 → 广西, 延边朝鲜族自治州 → 延边, 岚县 → 岚县 (one-character stem)."""
    for suffix in _SUFFIXES:
        if full.endswith(suffix) and len(full) - len(suffix) >= 2:
            stem = full[: -len(suffix)]
            if suffix.startswith("自治"):
                stem = _strip_nationalities(stem)
            return stem
    return full


def _strip_nationalities(stem):
    changed = True
    while changed:
        changed = False
        for name in _NATIONALITIES:
            for ending in (name + "族", name):
                if stem.endswith(ending) and len(stem) - len(ending) >= 2:
                    stem, changed = stem[: -len(ending)], True
                    break
            if changed:
                break
    return stem


# ---------------------------------------------------------------------------------------- index


@dataclass
class _Division:
    canonical: str
    aliases: dict  # lookup name → canonical name of the children
    children: dict  # canonical child name → _Division


class _Index:
    """province → city → county, every edition merged. A code the list reused for another place
    (浙江 3326: 丽水地区 until 1982, then 台州地区) gives each name its own division, and a county
    lies in the city whose name was in force when its own name was; a renamed division (苍山 →
    兰陵) keeps both names as divisions, so a record under either name is accepted as written."""

    def __init__(self):
        from stdnum import numdb

        db = numdb.get("cn/loc")
        self.root = _Division("national", {}, {})
        self.municipalities = set()
        self.codes = set()
        for _, low, high, props, children in db.prefixes:
            for code in _codes(low, high):
                self._province(code, props, children)

    def _province(self, code, props, children):
        entries = {}
        for _, low, high, child_props, _ in children:
            for sub in _codes(low, high):
                entries[sub] = _names(child_props)
                self.codes.add(code + sub)
        names = [props["province"]] + [n for n, _, _ in entries.get("0000", [])]
        canonical = short_name(names[-1])  # the 0000 entry's name is simplified (香港特别行政区)
        province = self._add(self.root, canonical, names)
        if names[-1].endswith("市"):
            # A municipality is its own city; its placeholder cities (市辖区, 县) mean it.
            self.municipalities.add(canonical)
            city = self._add(province, canonical, names + list(_MUNICIPAL))
            for sub, county_names in entries.items():
                if sub[2:] != "00":
                    for name, _, _ in county_names:
                        self._add(city, None, [name])
            return
        for sub, county_names in entries.items():
            if sub == "0000":
                continue
            city_names = entries.get(sub[:2] + "00", [])
            if sub[2:] == "00":
                for name, _, _ in county_names:
                    if not _DIRECT.match(name):
                        self._add(province, None, [name])
                continue
            for name, start, end in county_names:
                if any(_DIRECT.match(n) for n, _, _ in city_names):
                    # A county-level city under its province: its own city and its own county.
                    direct = self._add(province, None, [name])
                    if direct is not None:
                        self._add(direct, direct.canonical, [name])
                    continue
                for city_name in _in_force(city_names, start, end):
                    city_division = self._add(province, None, [city_name])
                    if city_division is not None:
                        self._add(city_division, None, [name])

    def _add(self, parent, canonical, names):
        names = [n for n in names if n]
        if canonical is None:
            real = [n for n in names if n not in _PLACEHOLDERS and not _DIRECT.match(n)]
            if not real:
                return None
            canonical = short_name(
                real[-1]
            )  # the list's own form: converting it alone makes 乾县 干县
        division = parent.children.get(canonical)
        if division is None:
            division = parent.children[canonical] = _Division(canonical, {}, {})
        for name in names + [canonical]:
            # The list's names are simplified already; input is converted at lookup instead.
            for form in (name, short_name(name)):
                parent.aliases.setdefault(form, canonical)
        return division


def _codes(low, high):
    if low == high:
        return [low]
    return [str(n).zfill(len(low)) for n in range(int(low), int(high) + 1)]


_YEARS = re.compile(r"^\[([0-9]*)-([0-9]*)\]")


def _names(props):
    """``[1994-2013]苍山县,[2014-]兰陵县`` → [(苍山县, 1994, 2013), (兰陵县, 2014, None)]."""
    text = props.get("county") or props.get("province") or ""
    names = []
    for part in text.split(","):
        years = _YEARS.match(part)
        name = _YEARS.sub("", part)
        if name:
            start, end = years.groups() if years else ("", "")
            names.append((name, int(start) if start else None, int(end) if end else None))
    return names


def _in_force(city_names, start, end):
    """The names of a county's city that were in force while the county's name was: overlapping
    years first; sharing only a boundary year (the year of a change) if nothing overlaps."""
    lo = start if start is not None else -1
    hi = end if end is not None else 10**4

    def bounds(s, e):
        return max(lo, s if s is not None else -1), min(hi, e if e is not None else 10**4)

    strict = [n for n, s, e in city_names if bounds(s, e)[0] < bounds(s, e)[1]]
    if strict:
        return strict
    loose = [n for n, s, e in city_names if bounds(s, e)[0] <= bounds(s, e)[1]]
    return loose or [n for n, _, _ in city_names]


_index = None
_index_lock = threading.Lock()


def _the_index():
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = _Index()
    return _index


def preload():
    """Load the division list (~130 ms) now rather than in the first request that names a place."""
    _the_index()


def region_code_exists(code):
    """Is ``code`` (six digits) an administrative division code of any GB/T 2260 edition?"""
    return code in _the_index().codes


def _resolve(parent, name):
    key = _name_key(name)
    found = parent.aliases.get(key)
    if found is None:
        found = parent.aliases.get(_simplified(key))
    return found


# ---------------------------------------------------------------------------------------- Place


@dataclass(frozen=True)
class Place:
    """Where a record is: province, city, county (canonical) and township, village (free text)."""

    province: str
    city: str | None = None
    county: str | None = None
    township: str | None = None
    village: str | None = None

    FIELDS: ClassVar = ("province", "city", "county", "township", "village")

    @classmethod
    def parse(cls, mapping):
        """A place from a mapping of the five fields; raises PlaceError naming each wrong field."""
        if isinstance(mapping, Place):
            return mapping
        if not isinstance(mapping, dict):
            raise PlaceError(
                "a location is an object of province, city, county, township, village",
                {"_schema": ["must be an object"]},
            )
        details = {}
        values = {}
        for field in cls.FIELDS:
            value = mapping.get(field)
            if value is not None and not isinstance(value, str):
                details[field] = ["must be text"]
            values[field] = value
        if details:
            raise PlaceError("location has fields that are not text", details)
        try:
            province, city, county = _divisions(
                values["province"], values["city"], values["county"]
            )
        except PlaceError as bad:
            details.update(bad.details)
            province = city = county = None
        free = {}
        for field in ("township", "village"):
            try:
                free[field] = clean_text(values[field], field)
            except PlaceError as bad:
                details.update(bad.details)
        if details:
            raise PlaceError("; ".join(m for ms in details.values() for m in ms), details)
        return cls(province, city, county, free["township"], free["village"])

    def to_dict(self):
        return {field: getattr(self, field) for field in self.FIELDS}

    def units(self):
        """The province, city and county Units this place lies in, broadest first."""
        path = tuple(p for p in (self.province, self.city, self.county) if p)
        return tuple(Unit(kind, path[: i + 1]) for i, kind in enumerate(GEOGRAPHIC[: len(path)]))

    @property
    def unit(self):
        """The narrowest Unit this place lies in."""
        return self.units()[-1]

    @property
    def path(self):
        return tuple(p for p in (self.province, self.city, self.county) if p)


@lru_cache(maxsize=65536)
def _divisions(province, city, county):
    """Canonical (province, city, county) for the names given; PlaceError naming the wrong one."""
    index = _the_index()
    if province is None or not _name_key(province):
        raise PlaceError("province is required", {"province": ["required"]})
    p = _resolve(index.root, province)
    if p is None:
        return _error("province", f"no province {_name_key(province)}")
    p_div = index.root.children[p]
    city_key = _name_key(city) if city is not None else ""
    county_key = _name_key(county) if county is not None else ""
    if not city_key:
        if p in index.municipalities and county_key:
            city_key = p
        elif county_key:
            return _error("city", "a county needs its city")
        else:
            return p, None, None
    if _DIRECT.match(_simplified(city_key)) and county_key:
        city_key = county_key  # 省直辖县级行政单位 + 仙桃 → city 仙桃
    c = _resolve(p_div, city_key)
    if c is None:
        return _error("city", f"no city {city_key} in {p}")
    if not county_key:
        return p, c, None
    x = _resolve(p_div.children[c], county_key)
    if x is None:
        return _error("county", f"no county {county_key} in {p}/{c}")
    return p, c, x


def _error(field, message):
    raise PlaceError(message, {field: [message]})


# ----------------------------------------------------------------------------------------- Unit


@dataclass(frozen=True)
class Unit:
    """A jurisdiction or reporting unit: ``national``, ``province:山东``, ``city:山东/临沂``,
    ``county:山东/临沂/沂南`` or ``society:中国农学会``; names canonical."""

    kind: str
    path: tuple = ()

    NATIONAL: ClassVar["Unit"]
    FORMS: ClassVar = "national, province:P, city:P/C, county:P/C/X, society:S"

    @classmethod
    def parse(cls, text):
        """The Unit ``text`` names (full names, traditional forms, stray whitespace accepted);
        ValueError (PlaceError) saying what is wrong."""
        if isinstance(text, Unit):
            return text
        if not isinstance(text, str):
            raise PlaceError(f"a unit is text of the form {cls.FORMS}", {"unit": ["must be text"]})
        return _parse_unit(text)

    @classmethod
    def of_record(cls, text):
        """The Unit a recorded event names, taken as written (no lookup): a projection replays
        what was recorded, including anything recorded before places were canonical, and must
        never refuse it."""
        if text == "national":
            return cls.NATIONAL
        kind, _, rest = str(text).partition(":")
        return cls(kind, (rest,) if kind == "society" else tuple(rest.split("/")))

    def __str__(self):
        return "national" if self.kind == "national" else f"{self.kind}:{'/'.join(self.path)}"

    def __repr__(self):
        return f"Unit({str(self)!r})"

    @property
    def province(self):
        return self.path[0] if self.kind in GEOGRAPHIC else None

    @property
    def parent(self):
        if self.kind == "national":
            return None
        if self.kind in ("province", "society"):
            return Unit.NATIONAL
        return Unit(GEOGRAPHIC[len(self.path) - 2], self.path[:-1])

    @property
    def lineage(self):
        """From national down to this unit itself."""
        chain = []
        unit = self
        while unit is not None:
            chain.append(unit)
            unit = unit.parent
        return tuple(reversed(chain))

    @property
    def geographic(self):
        return self.kind in GEOGRAPHIC

    def covers(self, other):
        """Does this unit's jurisdiction reach ``other`` (a Unit or a Place)? National covers
        everything; a society only itself; a province, city or county what lies inside it."""
        if self.kind == "national":
            return True
        if isinstance(other, Place):
            return self.geographic and other.path[: len(self.path)] == self.path
        if self.kind == "society" or other.kind == "society":
            return self == other
        return other.kind != "national" and other.path[: len(self.path)] == self.path

    def place(self):
        """The Place a geographic unit names (province, city, county)."""
        if not self.geographic:
            raise PlaceError(f"{self} is not a place", {"unit": ["not a place"]})
        return Place(*self.path)


Unit.NATIONAL = Unit("national", ())


@lru_cache(maxsize=4096)
def _parse_unit(text):
    normal = "".join(
        c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) not in _INVISIBLE
    ).strip()
    if normal == "national":
        return Unit.NATIONAL
    kind, sep, rest = normal.partition(":")
    kind = kind.strip()
    depth = {"province": 1, "city": 2, "county": 3, "society": 1}.get(kind)
    parts = rest.split("/") if kind != "society" else [rest]
    if not sep or depth is None or len(parts) != depth or not all(p.strip() for p in parts):
        raise PlaceError(
            f"unit {text!r} is not one of {Unit.FORMS}", {"unit": [f"not one of {Unit.FORMS}"]}
        )
    if kind == "society":
        name = clean_text(rest, "unit", SOCIETY_MAX)
        if "/" in name:
            raise PlaceError(
                "a society's name has no '/'", {"unit": ["a society's name has no '/'"]}
            )
        return Unit("society", (name,))
    names = parts + [None] * (3 - len(parts))
    try:
        path = _divisions(*names)
    except PlaceError as bad:
        message = "; ".join(m for ms in bad.details.values() for m in ms)
        raise PlaceError(f"unit {text!r}: {message}", {"unit": [message]}) from None
    return Unit(kind, tuple(p for p in path if p))


# ------------------------------------------------------------------------ at a service's edge


def canonical_unit(value, field="unit", kinds=KINDS):
    """``value`` as its canonical unit string, or ValidationFailed naming ``field``."""
    from kernel.errors import ValidationFailed

    try:
        unit = Unit.parse(value)
    except PlaceError as bad:
        raise ValidationFailed(
            f"{field}: {bad}", {field: bad.details.get("unit", [str(bad)])}
        ) from None
    if unit.kind not in kinds:
        raise ValidationFailed(
            f"{field} must be a unit of kind {' or '.join(kinds)}",
            {field: [f"must be a unit of kind {' or '.join(kinds)}"]},
        )
    return str(unit)


def canonical_place(value, field="location"):
    """``value`` as the canonical location dict (Place.to_dict), or ValidationFailed naming each
    wrong part as ``location.city`` and so on."""
    from kernel.errors import ValidationFailed

    try:
        return Place.parse(value).to_dict()
    except PlaceError as bad:
        details = {f"{field}.{k}": v for k, v in bad.details.items()}
        raise ValidationFailed(f"{field}: {bad}", details) from None


def canonical_province(value, field="province"):
    """A province's canonical name (山東省 → 山东), or ValidationFailed naming ``field``."""
    from kernel.errors import ValidationFailed

    try:
        return Place.parse({"province": value}).province
    except PlaceError as bad:
        raise ValidationFailed(
            f"{field}: {bad}", {field: bad.details.get("province", [str(bad)])}
        ) from None
