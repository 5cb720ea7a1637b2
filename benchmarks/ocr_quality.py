"""OCR quality and speed on complaint letters: Simplified, Traditional, English; clean and fax.

Usage::

    .venv/bin/python benchmarks/ocr_quality.py [--json] [--no-baseline]

Each letter (written for this benchmark, a few paragraphs in complaint-letter style) is
rendered with a Noto CJK font onto an A4 page, in three qualities:

- ``clean``: 300 dpi greyscale, anti-aliased, as a flatbed scan of a printed letter;
- ``upside-down``: the same page turned 180 degrees;
- ``fax-fine``: 204 x 196 dpi, 1-bit, rotated 0.8 degrees, with noise and speckle;
- ``fax``: the same at 204 x 98 dpi (G3 "normal" mode, pixels twice as tall as wide), which
  the image extractor stretches back to square pixels before OCR (``square_pixels``).

Each page goes through a G3/G4 TIFF in memory and ``ImageExtractor``'s page preparation, then
``TesseractOcrEngine.recognise`` with ``("chi_sim", "chi_tra", "eng")`` (the default context).

CER (character error rate) = Levenshtein distance / reference length, after NFKC (full-width
and half-width punctuation count as the same) and whitespace normalisation: Chinese is compared
with all whitespace removed, English with runs of whitespace made one space. ``s/page`` is
recognition wall time with the models already loaded. The baseline, measured in the same run
on the same pages, is one bare tesserocr ``chi_sim+eng`` reading of the page as it is (what a
pipeline without routing, turning or scaling does); ``ratio`` = our CER / baseline CER.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

from ingest.extractors.image import square_pixels  # noqa: E402
from ingest.ocr import TesseractOcrEngine, find_tessdata  # noqa: E402

# After ingest.ocr, which sets OMP_THREAD_LIMIT before Tesseract loads.
import tesserocr  # type: ignore[import-untyped]  # noqa: E402, I001

LANGUAGES = ("chi_sim", "chi_tra", "eng")
A4_MM = (210, 297)
FONT_FILES = ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc")

SIMPLIFIED = """\
尊敬的市信访局领导：
我叫李建华，家住本市海淀区清河街道安宁里小区三号楼二单元502室，联系电话13912345678。现就本小区物业公司长期不履行维修义务一事，向贵局反映情况并提出投诉。
自2023年5月起，我家卫生间天花板持续漏水，墙面发霉，电线受潮，已经严重影响全家人的正常生活和安全。我曾先后七次向物业服务中心报修，并于同年8月12日递交书面申请，但物业公司始终以“楼上住户不配合”为由推诿，至今没有任何处理结果。
为此，恳请贵局责成有关部门尽快调查核实，督促物业公司在三十日内完成维修，并对因漏水造成的财产损失依法予以赔偿。随信附上照片十二张、报修记录复印件一份。
此致
敬礼！
投诉人：李建华
2024年3月18日"""

TRADITIONAL = """\
敬啟者：
本人陳美玲，居住於臺北市大安區和平東路二段一百號四樓，聯絡電話0912-345-678。茲因本社區管理委員會長期漠視住戶權益，特向貴處提出陳情。
自民國一百一十二年十月起，社區地下停車場照明設備多處損壞，排水溝堵塞，每逢下雨即嚴重積水，住戶車輛屢遭損害。本人曾多次以書面及電話方式反映，管理委員會均未予回覆，亦未見任何改善。
懇請貴處派員實地勘查，督促管理委員會限期修繕，並依相關法規查明責任歸屬。隨函檢附現場照片八張及歷次反映紀錄影本各一份，敬請鑒核。
此致
臺北市政府
陳情人：陳美玲 敬上
中華民國一百一十三年三月十八日"""

ENGLISH = """\
To the Complaints Officer,
My name is Daniel Wright and I live at 14 Riverside Court, Flat 3B. I am writing to make a formal complaint about the repeated failure of Harbour View Property Management to repair the water leak in my bathroom ceiling, which I first reported on 12 May 2023.
Since then I have contacted the management office seven times by telephone and twice in writing. Each time I was promised that a contractor would visit within a week, yet no repair has been carried out. The damp has spread to the bedroom wall, mould is growing behind the wardrobe, and an electrical socket has stopped working.
I ask that your office investigate this matter, require the company to complete the repairs within thirty days, and consider compensation for the damaged furniture. Copies of my repair requests and twelve photographs are enclosed.
Yours faithfully,
Daniel Wright
18 March 2024"""

# name -> (text, font face suffix, point size): Chinese letters are usually set in 四号 (14 pt).
LETTERS = {
    "zh-Hans": (SIMPLIFIED, " SC", 14),
    "zh-Hant": (TRADITIONAL, " TC", 14),
    "en": (ENGLISH, " SC", 12),
}
QUALITIES = ("clean", "upside-down", "fax-fine", "fax")


def find_font(face_suffix: str) -> tuple[Path, int]:
    """The Noto CJK collection and the index of its face ending in ``face_suffix`` (" SC")."""
    for name in FONT_FILES:
        for path in sorted(Path("/usr/share/fonts").rglob(name)):
            for index in range(10):
                try:
                    family, _ = ImageFont.truetype(str(path), 10, index=index).getname()
                except OSError:
                    break
                if family and family.endswith(face_suffix) and "Mono" not in family:
                    return path, index
    raise SystemExit("Noto CJK fonts not found: apt-get install fonts-noto-cjk")


def render_letter(text: str, face_suffix: str, points: int, dpi: int = 300) -> Image.Image:
    """The letter on a white A4 page at ``dpi``, 25 mm margins, 1.6 line spacing."""
    path, index = find_font(face_suffix)
    px = round(points * dpi / 72)
    font = ImageFont.truetype(str(path), px, index=index)
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    margin = round(25 / 25.4 * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    y = margin
    for paragraph in text.splitlines():
        for line in _wrap(paragraph, font, width - 2 * margin):
            draw.text((margin, y), line, font=font, fill=0)
            y += round(px * 1.6)
    page.info["dpi"] = (dpi, dpi)
    return page


def _wrap(paragraph: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy wrapping: by word for English, by character for Chinese."""
    units = paragraph.split(" ") if paragraph.isascii() else list(paragraph)
    joiner = " " if paragraph.isascii() else ""
    lines: list[str] = []
    line = ""
    for unit in units:
        candidate = line + joiner + unit if line else unit
        if line and font.getlength(candidate) > width:
            lines.append(line)
            candidate = unit
        line = candidate
    return [*lines, line]


def degrade(page: Image.Image, quality: str, seed: int) -> Image.Image:
    """A 300 dpi page as it arrives in ``quality``, decoded from a G3/G4 TIFF in memory."""
    if quality == "clean":
        return page
    if quality == "upside-down":  # fed into the scanner the wrong way round
        return page.rotate(180)
    rng = random.Random(seed)
    xdpi, ydpi = (204, 196) if quality == "fax-fine" else (204, 98)
    tilted = page.rotate(0.8, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
    fax = tilted.resize((round(page.width * xdpi / 300), round(page.height * ydpi / 300)), Image.Resampling.BOX)
    noise = Image.effect_noise(fax.size, 24).filter(ImageFilter.GaussianBlur(0.6))
    fax = Image.blend(fax, noise, 0.25).point(lambda v: 255 if v > 150 else 0).convert("1")
    pixels = fax.load()
    assert pixels is not None
    for _ in range(fax.width * fax.height // 1500):  # speckle from a dirty scanner glass and line noise
        pixels[rng.randrange(fax.width), rng.randrange(fax.height)] = rng.choice((0, 0, 255))
    buffer = io.BytesIO()
    fax.save(buffer, format="TIFF", compression="group3" if quality == "fax" else "group4", dpi=(xdpi, ydpi))
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        decoded.load()
        return square_pixels(decoded.copy())


def normalise(text: str, chinese: bool) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", text) if chinese else re.sub(r"\s+", " ", text).strip()


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(reference: str, hypothesis: str, chinese: bool) -> float:
    ref, hyp = normalise(reference, chinese), normalise(hypothesis, chinese)
    return levenshtein(ref, hyp) / max(1, len(ref))


def baseline_read(api: tesserocr.PyTessBaseAPI, page: Image.Image) -> str:
    """One bare ``chi_sim+eng`` reading of the page as it is: no routing, turning or scaling."""
    api.SetImage(page.convert("L"))
    api.SetSourceResolution(round(page.info.get("dpi", (300, 300))[0]))
    text: str = api.GetUTF8Text()
    api.Clear()
    return text


def run(baseline: bool) -> list[dict[str, Any]]:
    engine = TesseractOcrEngine()
    bare = tesserocr.PyTessBaseAPI(path=str(find_tessdata()), lang="chi_sim+eng")
    pages = {name: render_letter(text, face, points) for name, (text, face, points) in LETTERS.items()}
    for page in pages.values():  # load every model before anything is timed
        engine.recognise(page, LANGUAGES)
    rows = []
    for seed, (name, (text, _, _)) in enumerate(LETTERS.items()):
        clean = pages[name]
        chinese = name.startswith("zh")
        for quality in QUALITIES:
            page = degrade(clean, quality, seed)
            started = time.perf_counter()
            result = engine.recognise(page, LANGUAGES)
            seconds = time.perf_counter() - started
            row: dict[str, Any] = {
                "letter": name,
                "quality": quality,
                "cer": round(cer(text, result.text, chinese), 4),
                "confidence": result.confidence,
                "model": result.language,
                "s_per_page": round(seconds, 2),
            }
            if baseline:
                started = time.perf_counter()
                base = baseline_read(bare, page)
                row["baseline_cer"] = round(cer(text, base, chinese), 4)
                row["baseline_s_per_page"] = round(time.perf_counter() - started, 2)
                row["ratio"] = round(row["cer"] / row["baseline_cer"], 2) if row["baseline_cer"] else None
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    parser.add_argument("--no-baseline", action="store_true", help="skip the chi_sim+eng baseline")
    args = parser.parse_args()
    rows = run(baseline=not args.no_baseline)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = f"{'letter':8} {'quality':11} {'CER':>7} {'conf':>5} {'model':12} {'s/page':>6}"
    if not args.no_baseline:
        header += f" {'base CER':>8} {'base s':>6} {'ratio':>5}"
    print(header)
    for row in rows:
        line = (
            f"{row['letter']:8} {row['quality']:11} {row['cer']:7.2%} {row['confidence']:5.1f} "
            f"{row['model']:12} {row['s_per_page']:6.2f}"
        )
        if not args.no_baseline:
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
            line += f" {row['baseline_cer']:8.2%} {row['baseline_s_per_page']:6.2f} {ratio:>5}"
        print(line)


if __name__ == "__main__":
    main()
