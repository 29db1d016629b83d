"""A 30-member consortium (the size the benchmark times), with bodies spread over one prefecture."""

from __future__ import annotations

from tests.domain.factories import body, make_instance, need, reference_categories

from .plans import settled_plan

VILLAGES = [
    "上松町",
    "南木曽町",
    "木祖村",
    "王滝村",
    "大桑村",
    "木曽町",
    "麻績村",
    "生坂村",
    "山形村",
    "朝日村",
    "筑北村",
    "池田町",
    "松川村",
    "坂城町",
    "小布施町",
    "高山村",
    "山ノ内町",
    "木島平村",
    "野沢温泉村",
    "信濃町",
    "小川村",
    "飯綱町",
    "栄村",
    "立科町",
    "青木村",
    "長和町",
    "下諏訪町",
    "富士見町",
    "原村",
    "辰野町",
]


def thirty_member_setting(mode: str = "unified"):
    bodies = [
        body(
            f"2040{i:02d}",
            name,
            35.9 + 0.03 * i,
            137.7 + 0.025 * i,
            kind="town" if name.endswith("町") else "village",
            population=3000 + 517 * i,
            disadvantaged=i % 3 == 0,
            has_data_plan=i % 5 != 4,
        )
        for i, name in enumerate(VILLAGES)
    ]
    needs = [need(f"n{i:02d}", b["code"], "ocr", 5 + i, can_lead=i == 0) for i, b in enumerate(bodies)]
    instance = make_instance(bodies, needs, categories=reference_categories("ocr"))
    plan = settled_plan(instance, [("ocr-big", mode, bodies[0]["code"], [n["id"] for n in needs])])
    return instance, plan
