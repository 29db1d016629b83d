"""The credit that 総務省's figures (population, households, 財政力指数) carry wherever they are shown.

They are used and processed under the 政府標準利用規約（第2.0版）, which asks for the source and a note that the
data was processed: pages, documents and the shipped dataset (planner/data/reference_bodies.json) say so.
"""

LICENCE = (
    "政府標準利用規約（第2.0版）に基づき、総務省の公表データを本プランナーが加工して作成"
    "（https://www.digital.go.jp/resources/open_data/）"
)
DATA_CREDIT = (
    "人口・財政力指数の出典：総務省「住民基本台帳に基づく人口、人口動態及び世帯数」「主要財政指標」"
    "（政府標準利用規約（第2.0版）により加工）"
)
