"""Problems found while reading a file, with where they are (file, row, column)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    row: int | None = None  # 1-based, as the spreadsheet shows it
    column: str | None = None  # "D（財政力指数）"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"{self.row}行目")
        if self.column:
            where.append(f"{self.column}列")
        return f"{' '.join(where)}: {self.message}"


class FileProblems(ValueError):
    """Every problem of an import; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = [str(p) for p in self.problems[:30]]
        if len(self.problems) > 30:
            shown.append(f"…ほか {len(self.problems) - 30} 件")
        super().__init__("\n".join(shown))

    @property
    def messages(self) -> list[str]:
        return [str(p) for p in self.problems]


def too_many_rows(file_name: str, rows: int | None, limit: int, *, declared: bool = False) -> FileProblems:
    count = (
        f"{rows:,}行{'あると宣言されています' if declared else ''}"
        if rows is not None
        else f"{limit:,}行を超えています"
    )
    return FileProblems([Problem(file_name, f"行が多すぎます（{count}）。{limit:,}行以下のファイルに分けてください")])
