"""Which Japanese font to embed: the time and size of one page of the 負担額通知 with each candidate font.

    .venv/bin/python bench/report_font_bench.py [--noto /path/to/NotoSansCJK-Regular.ttc] [--runs 3]

IPAex comes from fonts-ipaexfont (installed by the README commands). Noto Sans CJK is optional: point --noto at
the file from fonts-noto-cjk (``apt-get download fonts-noto-cjk`` and ``dpkg-deb -x`` it anywhere, so the
machine's fontconfig is left as it is). Each font is loaded through @font-face and forced on every element.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.reports import pdf  # noqa: E402
from tests.reports.fixtures import nagano_instance, nagano_plan  # noqa: E402

IPAEX = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")


def render(html: str, font_file: Path) -> tuple[float, int, int]:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    forced = CSS(
        string=f"@font-face {{ font-family: Candidate; src: url('{font_file.as_uri()}'); }}"
        "* { font-family: Candidate !important; }",
        font_config=fonts,
    )
    started = time.perf_counter()
    data = HTML(string=html, base_url=str(ROOT)).write_pdf(stylesheets=[pdf._stylesheet(), forced], font_config=fonts)
    seconds = time.perf_counter() - started
    import pypdf

    return seconds, len(data), len(pypdf.PdfReader(io.BytesIO(data)).pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noto", type=Path, default=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    instance = nagano_instance()
    html = pdf.member_html(instance, nagano_plan(instance), "n-otari-ocr")
    candidates = [("IPAex Gothic (TrueType)", IPAEX), ("Noto Sans CJK JP (CFF)", args.noto)]
    for label, path in candidates:
        if not path.exists():
            print(f"{label:<28} skipped: {path} not found")
            continue
        first = render(html, path)  # the first document also pays for loading the font file
        runs = [render(html, path) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in runs)
        print(
            f"{label:<28} first {first[0]:5.2f} s, then {seconds:5.2f} s per document (median of {args.runs}), "
            f"{runs[0][1] / 1024:5.0f} KiB, {runs[0][2]} page(s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
