"""Readers for files users bring: MIC's official xlsx files, body-flag lists, need lists.

Readers only parse and validate; they never write. Each problem names the file, the row and the column, so that
the caller can refuse the whole import and show every problem at once.
"""

from .errors import FileProblems, Problem

__all__ = ["FileProblems", "Problem"]
