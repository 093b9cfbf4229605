"""The monitor's HTML report draws in a real browser: the sample page (written by
render_report_sample from libs/monitoring/report) is rendered by headless Chromium to a PNG,
and the PNG is decoded here with zlib and struct alone. It must have the window's size, not be
one flat colour, show the summary banner in its health's colour (and no other health's), and
show the charts' colours (the inline SVG drew). The page itself must stand alone: no script, no
URL. Three samples: a drifting model, a healthy one, and one with no data yet."""

import pathlib
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter

import pytest

from conftest import BIN_DIR

SAMPLE = BIN_DIR / "tests" / "render_report_sample"
WIDTH, HEIGHT = 1200, 2000


def decode_png(data):
    """Returns (width, height, rows), each row a bytes of RGB or RGBA pixels. Handles what
    Chromium writes: 8-bit RGB or RGBA, not interlaced, any of the five row filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, header = 8, [], None
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        previous = bytes(line)
        rows.append(previous)
    return width, height, bpp, rows


def pixel_counts(bpp, rows):
    counts = Counter()
    for row in rows:
        counts.update(row[i:i + 3] for i in range(0, len(row), bpp))
    return counts


def near(counts, rgb, tolerance=3):
    """How many pixels are within `tolerance` of `rgb` on every channel."""
    return sum(n for pixel, n in counts.items()
               if all(abs(pixel[k] - rgb[k]) <= tolerance for k in range(3)))


def css_colour(page, pattern):
    """The first #rrggbb colour after `pattern` in the page's style sheet."""
    match = re.search(pattern + r"[^#}]*#([0-9a-f]{6})", page)
    assert match, f"no colour for {pattern} in the page's style"
    return bytes.fromhex(match.group(1))


def write_sample(directory, sample):
    path = directory / f"{sample}.html"
    run = subprocess.run([str(SAMPLE), str(path), sample], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return path


def screenshot(page, directory):
    """Renders `page` in headless Chromium and returns (width, height, bpp, rows, pixel counts)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (tools/setup installs Debian's chromium)")
    png = directory / (page.stem + ".png")
    run = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={directory / 'profile'}", f"--screenshot={png}",
         f"--window-size={WIDTH},{HEIGHT}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and png.exists(), run.stdout + run.stderr
    width, height, bpp, rows = decode_png(png.read_bytes())
    return width, height, pixel_counts(bpp, rows)


@pytest.mark.parametrize("sample", ["drifting", "healthy", "empty"])
def test_page_stands_alone(tmp_path, sample):
    html = write_sample(tmp_path, sample).read_text(encoding="utf-8").lower()
    assert html.startswith("<!doctype html>")
    for banned in ("<script", "http://", "https://", "<link", "<img", "src=", "url(", "@import"):
        assert banned not in html, banned
    # Every feature and every metric has its chart; the empty sample has none.
    assert html.count("<svg ") == html.count("</svg>") == (0 if sample == "empty" else 12 + 2)


# The banner's class per sample, and the colour no other banner may show.
BANNERS = {"drifting": "drifting", "healthy": "healthy", "empty": "no-data"}


@pytest.mark.parametrize("sample", ["drifting", "healthy", "empty"])
def test_chromium_draws_the_page(tmp_path, sample):
    page = write_sample(tmp_path, sample)
    width, height, counts = screenshot(page, tmp_path)
    assert (width, height) == (WIDTH, HEIGHT)
    most_common, most = counts.most_common(1)[0]
    assert most < 0.95 * width * height, f"the page is mostly one colour {most_common.hex()}"
    assert len(counts) > 50, "too few colours for text and charts"

    html = page.read_text(encoding="utf-8")
    # The summary banner, about 1,000 by 150 pixels, in its health's colour; no other
    # health's colour anywhere.
    for state in BANNERS.values():
        colour = css_colour(html, rf"\.summary\.{state}\{{background:")
        if state == BANNERS[sample]:
            assert near(counts, colour) > 50_000, f"the {state} banner {colour.hex()} is missing"
        else:
            assert near(counts, colour) < 1_000, f"the {sample} page shows the {state} colour"
    # The performance charts, in the first 2,000 pixels, draw their line in the reference blue.
    blue = css_colour(html, r"--reference:")
    if sample == "empty":
        assert near(counts, blue, tolerance=6) < 100, "an empty page drew a chart"
    else:
        assert near(counts, blue, tolerance=6) > 500, f"the charts did not draw ({blue.hex()})"
