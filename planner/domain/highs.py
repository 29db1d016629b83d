"""One silent HiGHS instance factory for the optimiser and the nucleolus LPs."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import highspy

_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def new_silent_highs() -> highspy.Highs:
    """A silent highspy.Highs (the first one in a process prints a copyright banner on stdout; keep it off the
    command line's output)."""
    global _BANNER_DONE
    import highspy

    with _BANNER_LOCK:
        if _BANNER_DONE:
            h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's constructor has no annotations
        else:
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    h = highspy.Highs()  # type: ignore[no-untyped-call]  # (as above)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_DONE = True
    h.setOptionValue("output_flag", False)
    return h
