"""The national list of bodies: 47 prefectures and 1,741 municipalities, from the japancode package's data.

The package ships JSON files with codes, names and positions; they are read from the installed package, so
nothing is downloaded. The 175 wards of designated cities are in the package but are not bodies: they are
recognised by the space in their name ("札幌市 中央区") and only used to tell which cities are designated cities.

A prefecture's position is its office (県庁), because distances are measured between offices (庁舎間): the
package gives positions for municipalities only (their offices), and no maintained package gives the 47
prefectural offices, so a prefecture takes the position of the municipality that hosts its office (the capital;
新宿区 for 東京都). That is the capital's own office, in the same city as the 県庁 (under 1.5 km from it for the four
checked in the tests against GSI's published positions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .codes import check_digit

# Where MIC's code table (and so every official file) spells a name differently from the package: ケ for ヶ
# in these seven (but not in 茅ヶ崎市, 外ヶ浜町 ...), and 梼 for 檮.
_NAME_CORRECTIONS = {
    "023213": "鰺ケ沢町",
    "024112": "六ケ所村",
    "043028": "七ケ宿町",
    "044041": "七ケ浜町",
    "112411": "鶴ケ島市",
    "202100": "駒ケ根市",
    "394050": "梼原町",
    "454435": "五ケ瀬町",
}


# The municipality hosting each prefectural office (県庁所在地; 東京都庁 is in 新宿区), by prefecture code. Each
# name is looked up in the package's list of that prefecture, so a misspelt or merged-away name fails loudly.
PREFECTURAL_OFFICE_MUNICIPALITY = {
    "01": "札幌市",
    "02": "青森市",
    "03": "盛岡市",
    "04": "仙台市",
    "05": "秋田市",
    "06": "山形市",
    "07": "福島市",
    "08": "水戸市",
    "09": "宇都宮市",
    "10": "前橋市",
    "11": "さいたま市",
    "12": "千葉市",
    "13": "新宿区",
    "14": "横浜市",
    "15": "新潟市",
    "16": "富山市",
    "17": "金沢市",
    "18": "福井市",
    "19": "甲府市",
    "20": "長野市",
    "21": "岐阜市",
    "22": "静岡市",
    "23": "名古屋市",
    "24": "津市",
    "25": "大津市",
    "26": "京都市",
    "27": "大阪市",
    "28": "神戸市",
    "29": "奈良市",
    "30": "和歌山市",
    "31": "鳥取市",
    "32": "松江市",
    "33": "岡山市",
    "34": "広島市",
    "35": "山口市",
    "36": "徳島市",
    "37": "高松市",
    "38": "松山市",
    "39": "高知市",
    "40": "福岡市",
    "41": "佐賀市",
    "42": "長崎市",
    "43": "熊本市",
    "44": "大分市",
    "45": "宮崎市",
    "46": "鹿児島市",
    "47": "那覇市",
}


@dataclass(frozen=True)
class MasterBody:
    code: str
    name: str
    prefecture_code: str
    prefecture_name: str
    kind: str
    lat: float
    lng: float


@dataclass(frozen=True)
class MasterWard:
    code: str
    name: str  # "札幌市中央区", as MIC writes it
    city_code: str


def _official_name(code: str, name: str) -> str:
    return _NAME_CORRECTIONS.get(code, name)


def _load(filename: str) -> list[dict]:
    with resources.files("japancode").joinpath("data", filename).open(encoding="utf-8") as f:
        return json.load(f)


def _kind(name: str, prefecture_code: str, designated: bool) -> str:
    if designated:
        return "designated_city"
    if prefecture_code == "13" and name.endswith("区"):
        return "special_ward"
    return {"市": "city", "町": "town", "村": "village"}[name[-1]]


@lru_cache(maxsize=1)
def national_master() -> tuple[tuple[MasterBody, ...], tuple[MasterWard, ...]]:
    """All bodies in code order (prefectures first within each prefecture), and the wards of designated cities."""
    prefectures = _load("prefectures.json")
    municipalities = _load("municipalities.json")
    ward_rows = [m for m in municipalities if " " in m["city"]]
    city_rows = [m for m in municipalities if " " not in m["city"]]
    designated = {(m["pref"], m["city"].split(" ")[0]) for m in ward_rows}
    pref_names = {p["pid"].zfill(2): p["pref"] for p in prefectures}

    bodies: list[MasterBody] = []
    for m in city_rows:
        code = m["lgcode"].zfill(6)
        pc = m["pid"].zfill(2)
        bodies.append(
            MasterBody(
                code=code,
                name=_official_name(code, m["city"]),
                prefecture_code=pc,
                prefecture_name=pref_names[pc],
                kind=_kind(m["city"], pc, (m["pref"], m["city"]) in designated),
                lat=float(m["lat"]),
                lng=float(m["lng"]),
            )
        )
    for p in prefectures:
        pc = p["pid"].zfill(2)
        office = prefectural_office_host(pc, bodies)
        bodies.append(
            MasterBody(
                code=p["lgcode"],
                name=p["pref"],
                prefecture_code=pc,
                prefecture_name=p["pref"],
                kind="prefecture",
                lat=office.lat,
                lng=office.lng,
            )
        )
    wards = []
    for m in ward_rows:
        city = m["city"].split(" ")[0]
        city_code = next(
            b.code for b in bodies if b.kind == "designated_city" and b.prefecture_name == m["pref"] and b.name == city
        )
        wards.append(MasterWard(code=m["lgcode"].zfill(6), name=m["city"].replace(" ", ""), city_code=city_code))
    bodies.sort(key=lambda b: b.code)
    for b in bodies:
        if check_digit(b.code[:5]) != b.code[5]:  # the package's data is trusted, but never blindly
            raise ValueError(f"japancode data: body code {b.code} ({b.name}) fails the check digit")
    return tuple(bodies), tuple(wards)


def prefectural_office_host(prefecture_code: str, municipalities: list[MasterBody]) -> MasterBody:
    """The municipality that hosts the prefecture's office (its position is the prefecture's)."""
    name = PREFECTURAL_OFFICE_MUNICIPALITY[prefecture_code]
    found = [b for b in municipalities if b.prefecture_code == prefecture_code and b.name == name]
    if len(found) != 1:
        raise ValueError(
            f"japancode data: the host of prefectural office {prefecture_code} ({name}) is not in the package's list"
        )
    return found[0]


def master_bodies() -> tuple[MasterBody, ...]:
    return national_master()[0]


def ward_codes() -> frozenset[str]:
    return frozenset(w.code for w in national_master()[1])


def prefecture_names() -> dict[str, str]:
    """Prefecture code ("20") -> name ("長野県")."""
    return {b.prefecture_code: b.name for b in master_bodies() if b.kind == "prefecture"}
