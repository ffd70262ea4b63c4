"""Reference material the synthetic-data generator draws from: places (geothai), Thai names (Faker's lists), phrases.

Geography comes only from geothai (DOPA data, CC-BY-4.0); names from Faker's th_TH person provider,
read once as plain lists because a Faker call per name is far too slow for a million persons.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

import geothai
from faker.providers.person.th_TH import Provider as ThaiPersonProvider

from hub.thai import BANGKOK_PROVINCE

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed weighted choice, drawn with one random number (random.choices rebuilds its table each call)."""

    __slots__ = ("values", "cumulative", "total")

    def __init__(self, weights: dict[T, float]) -> None:
        self.values = tuple(weights)
        self.cumulative = tuple(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


@dataclass(frozen=True, slots=True)
class Place:
    """A subdistrict with what the generator writes about it."""

    code: str
    district_code: str
    province_code: str
    name_th: str
    district_name_th: str
    province_name_th: str
    postcode: str
    bangkok: bool
    # 'แขวง... เขต... กรุงเทพมหานคร 10200' or 'ตำบล... อำเภอ... จังหวัด... 50000'
    address_tail: str

    @property
    def dist_id(self) -> int:
        """The city's district number (Bangkok only)."""
        return int(self.district_code) - 1000


@dataclass(frozen=True)
class Places:
    bangkok: tuple[Place, ...]
    elsewhere: tuple[Place, ...]
    # dist_id -> that Bangkok district's subdistricts
    bangkok_by_dist_id: dict[int, tuple[Place, ...]]
    all_district_codes: tuple[str, ...]


def _place(subdistrict, district, province) -> Place:
    bangkok = province.code == BANGKOK_PROVINCE
    postcode = subdistrict.postal_codes[0] if subdistrict.postal_codes else ""
    if bangkok:
        # geothai names Bangkok districts with their prefix already ('เขตพระนคร').
        tail = f"แขวง{subdistrict.name_th} {district.name_th} {province.name_th} {postcode}"
    else:
        tail = f"ตำบล{subdistrict.name_th} อำเภอ{district.name_th} จังหวัด{province.name_th} {postcode}"
    return Place(
        code=subdistrict.code,
        district_code=district.code,
        province_code=province.code,
        name_th=subdistrict.name_th,
        district_name_th=district.name_th,
        province_name_th=province.name_th,
        postcode=postcode,
        bangkok=bangkok,
        address_tail=tail.strip(),
    )


@cache
def places() -> Places:
    bangkok: list[Place] = []
    elsewhere: list[Place] = []
    district_codes: list[str] = []
    for province in geothai.provinces():
        for district in geothai.districts(province.code):
            district_codes.append(district.code)
            for subdistrict in geothai.subdistricts(district.code):
                place = _place(subdistrict, district, province)
                (bangkok if place.bangkok else elsewhere).append(place)
    by_dist: dict[int, list[Place]] = {}
    for place in bangkok:
        by_dist.setdefault(place.dist_id, []).append(place)
    return Places(
        bangkok=tuple(bangkok),
        elsewhere=tuple(elsewhere),
        bangkok_by_dist_id={k: tuple(v) for k, v in sorted(by_dist.items())},
        all_district_codes=tuple(district_codes),
    )


@dataclass(frozen=True)
class Names:
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]


@cache
def names() -> Names:
    return Names(
        male=tuple(ThaiPersonProvider.first_names_male),
        female=tuple(ThaiPersonProvider.first_names_female),
        family=tuple(ThaiPersonProvider.last_names),
    )


# Short case notes as an intake officer writes them, by category.
CASE_SUMMARIES = {
    "homeless": ("พบนอนพักริมทางเท้า ไม่มีที่พักอาศัย", "ไร้ที่พึ่ง ขอรับการช่วยเหลือด้านที่พัก", "พบเร่ร่อนบริเวณสวนสาธารณะ ส่งต่อศูนย์คุ้มครอง"),
    "beggar": ("พบขอทานบริเวณสะพานลอย", "ขอทานซ้ำ คัดกรองเข้าศูนย์คุ้มครอง", "พบขอทานพร้อมเด็กเล็ก ส่งต่อเพื่อคุ้มครอง"),
    "child": ("เด็กขาดผู้ดูแล ขอรับการช่วยเหลือ", "เด็กถูกทอดทิ้ง ส่งต่อสถานแรกรับ", "ครอบครัวยากจน ขอทุนการศึกษา"),
    "youth": ("เยาวชนออกกลางคัน ขอรับคำปรึกษา", "เยาวชนเสี่ยงใช้สารเสพติด ติดตามเยี่ยมบ้าน"),
    "elderly": ("ผู้สูงอายุอยู่ลำพัง ขาดผู้ดูแล", "ผู้สูงอายุติดเตียง ขอรับกายอุปกรณ์", "ผู้สูงอายุถูกละเลย ขอรับการเยี่ยมบ้าน"),
    "disability": ("คนพิการขอรับกายอุปกรณ์", "คนพิการขาดผู้ดูแล ขอรับการช่วยเหลือ", "ขอปรับสภาพที่อยู่อาศัยสำหรับคนพิการ"),
    "women": ("หญิงถูกกระทำความรุนแรงในครอบครัว", "แม่เลี้ยงเดี่ยว ขอรับการช่วยเหลือเงินสงเคราะห์"),
    "family": ("ครอบครัวมีปัญหาหนี้สิน ขอรับคำปรึกษา", "ความขัดแย้งในครอบครัว ติดตามเยี่ยมบ้าน"),
    "vulnerable": ("ผู้มีรายได้น้อย ขอรับเงินสงเคราะห์ครอบครัว", "ตกงาน ขาดรายได้ ขอรับการช่วยเหลือเฉพาะหน้า"),
    "housing": ("บ้านทรุดโทรม ขอรับการซ่อมแซมที่อยู่อาศัย", "ถูกไล่ที่ ขอรับการช่วยเหลือด้านที่อยู่อาศัย"),
}

# What the city's outreach workers record as a homeless person's name.
HOMELESS_NICKNAMES = (
    "ลุงดำ", "ป้าแดง", "ตาหนู", "ยายมา", "พี่ต้อย", "น้าเล็ก", "ลุงชัย", "ป้าจุ๋ม", "พี่หมู", "ตาเขียว",
    "ยายศรี", "ลุงแก่", "พี่โอ๋", "น้าแว่น", "ไม่ทราบชื่อ",
)
HOMELESS_REFERRALS = (
    "ศูนย์คุ้มครองคนไร้ที่พึ่ง", "บ้านมิตรไมตรี", "โรงพยาบาล", "ครอบครัวรับกลับ", "สถานคุ้มครองผู้สูงอายุ",
)
# Spot descriptions for a point-in-time count: a kind of place, then the khwaeng's name.
HOMELESS_SPOTS = ("ทางเท้าริมถนน", "ใต้สะพานลอย", "ป้ายรถประจำทาง", "ลานหน้าสถานีรถไฟ", "สวนสาธารณะ", "ริมคลอง")
HOUSING_PROJECT_KINDS = ("โครงการบ้านมั่นคง", "อาคารเคหะชุมชน", "โครงการบ้านเช่าราคาถูก", "โครงการที่พักผู้มีรายได้น้อย")
