"""A small Nagano instance with two joint groups and a standalone need, for the report tests."""

from __future__ import annotations

from tests.domain.factories import body, make_instance, need, reference_categories

from .plans import settled_plan

BODIES = [
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture", population=2020000, fsi=0.5),
    body("202011", "長野市", 36.6486, 138.1948, kind="city", population=366000, fsi=0.62),
    body("202029", "松本市", 36.2380, 137.9720, kind="city", population=237000, fsi=0.65),
    body("202037", "上田市", 36.4020, 138.2490, kind="city", population=154000, fsi=0.55),
    body("204820", "小谷村", 36.7750, 137.9080, kind="village", population=2700, fsi=0.16, disadvantaged=True),
    body(
        "204854",
        "白馬村",
        36.6980,
        137.8620,
        kind="village",
        population=8800,
        fsi=0.35,
        disadvantaged=True,
        has_data_plan=False,
    ),
]
NEEDS = [
    need("n-nagano-ocr", "202011", "ocr", 400, can_lead=True),
    need("n-matsumoto-ocr", "202029", "ocr", 250),
    need("n-ueda-ocr", "202037", "ocr", 150),
    need("n-otari-ocr", "204820", "ocr", 5),
    need("n-hakuba-ocr", "204854", "ocr", 12),
    need("n-nagano-rpa", "202011", "rpa", 30, can_lead=True),
    need("n-ueda-rpa", "202037", "rpa", 12),
    need("n-otari-rpa", "204820", "rpa", 1),
]


def nagano_instance():
    return make_instance(
        BODIES, NEEDS, categories=reference_categories("ocr", "rpa"), hosts=[{"body": "200000", "categories": ["rpa"]}]
    )


def nagano_plan(instance):
    return settled_plan(
        instance,
        [
            ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr", "n-hakuba-ocr"]),
            ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"]),
        ],
    )
