"""The Japanese words the documents print for the plan's codes (modes, allocation methods, measures)."""
from __future__ import annotations

MODE_LABELS = {
    "lead": "幹事団体一括調達（幹事団体が一括調達し参加団体に利用させる方式）",
    "unified": "仕様統一・各団体調達（仕様書等を統一し各団体が調達する方式）",
    "standalone": "単独調達",
}
MODE_SHORT = {"lead": "幹事一括", "unified": "仕様統一", "standalone": "単独"}
LEAD_ROLE = {"lead": "幹事団体", "unified": "取りまとめ団体", "standalone": "調達団体"}

METHOD_LABELS = {
    "equal": "均等割",
    "population": "人口割",
    "volume": "利用量割",
    "formula": "均等割・人口割・利用量割の組合せ",
    "standalone_ratio": "単独導入費用比",
    "shapley": "シャープレイ値",
    "nucleolus": "仁（nucleolus）",
}

# The rule data names the measures; these are the words for the codes the spec defines.
MEASURE_LABELS = {
    "disadvantaged_area": "条件不利地域における先端的な情報通信技術の導入",
    "advanced_ict": "条件不利地域における先端的な情報通信技術の導入",
    "smart_rpa": "自治体行政のスマート化（RPA）",
    "smart_government": "自治体行政のスマート化",
    "rpa": "自治体行政のスマート化（RPA）",
}

MEASURE_SHORT = {
    "disadvantaged_area": "条件不利地域",
    "advanced_ict": "条件不利地域",
    "smart_rpa": "スマート化（RPA）",
    "smart_government": "スマート化",
    "rpa": "スマート化（RPA）",
}

PREFECTURE_NAMES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県",
    "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県",
    "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県",
    "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県",
    "宮崎県", "鹿児島県", "沖縄県",
)


def prefecture_name(code: str) -> str:
    if code.isdigit() and 1 <= int(code) <= 47:
        return PREFECTURE_NAMES[int(code) - 1]
    return f"都道府県コード{code}"


def measure_label(code: str | None) -> str:
    if not code:
        return "—"
    return MEASURE_LABELS.get(code, code)


def measure_short(code: str | None) -> str:
    """The measure's name short enough for a table column (the full name is in the table's note)."""
    if not code:
        return "—"
    return MEASURE_SHORT.get(code) or MEASURE_LABELS.get(code, code)
