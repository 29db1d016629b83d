"""Plausibility warnings for registered volumes (issue #15 point 6)."""

from planner.domain.volume_checks import volume_warnings


def test_a_jump_from_the_previous_value_is_warned_with_the_unit():
    warnings = volume_warnings(1500, "千枚/年", previous=17.1)
    assert len(warnings) == 1
    assert "17.1 から 1,500" in warnings[0] and "約88倍" in warnings[0] and "単位（千枚/年）" in warnings[0]
    assert "減少" in volume_warnings(5, "千枚/年", previous=17.1)[0]
    assert volume_warnings(30, "千枚/年", previous=17.1) == []  # less than threefold: an ordinary update


def test_far_from_the_population_guide_is_warned():
    # 小谷村: 2,654 inhabitants, AI-OCR 5 千枚 per 10,000 -> guide 1.3
    warnings = volume_warnings(1500, "千枚/年", population=2654, per_10k_pop=5)
    assert len(warnings) == 1 and "人口（2,654人）からの目安 1.3" in warnings[0] and "上回ります" in warnings[0]
    assert volume_warnings(3, "千枚/年", population=2654, per_10k_pop=5) == []
    assert "下回ります" in volume_warnings(0.1, "千枚/年", population=369977, per_10k_pop=5)[0]


def test_nothing_to_compare_gives_no_warning():
    assert volume_warnings(1500, "千枚/年") == []
    assert volume_warnings(1500, "", population=None, per_10k_pop=5) == []
