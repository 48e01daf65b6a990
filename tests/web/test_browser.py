"""The web page in a real browser: headless Chromium (Debian's package; `make browser`
installs it) renders the page from a running server; the test reads the rendered room names
and decodes the QR codes in a screenshot back into the join URLs, in light and dark mode.

These tests fail, never skip, when Chromium cannot run: a page nobody checked is not done.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from .conftest import ROOMS, WebServer, start_web_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class Chromium:
    def __init__(self, binary: str, profile: Path) -> None:
        self.binary = binary
        self.profile = profile

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"chromium failed ({done.returncode}):\n{done.stderr[-2000:]}"
        return done

    def dom(self, url: str) -> str:
        return self.run("--dump-dom", url).stdout

    def screenshot(self, url: str, out: Path, size: str = "480,1000", dark: bool = False) -> Path:
        scheme = ("--force-dark-mode", "--blink-settings=preferredColorScheme=0") if dark else ()
        self.run(*scheme, f"--window-size={size}", f"--screenshot={out}", url)
        assert out.is_file() and out.stat().st_size > 0, "no screenshot written"
        return out


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    binary = shutil.which("chromium") or CHROMIUM
    if not Path(binary).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    browser = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    assert "Chromium" in browser.run("--version").stdout
    return browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    server = start_web_server(tmp_path_factory.mktemp("browser"))
    yield server
    server.running.stop()


def decode_qr_codes(png: Path) -> list[str]:
    with Image.open(png) as image:
        return [code.text for code in zxingcpp.read_barcodes(image.convert("L"))]


def brightness(png: Path, xy: tuple[int, int]) -> float:
    with Image.open(png) as image:
        return float(image.convert("L").getpixel(xy))  # type: ignore[arg-type]


def test_rendered_index_shows_every_room(chromium: Chromium, site: WebServer) -> None:
    dom = chromium.dom(site.base_url + "/")
    for name in ROOMS.values():
        rendered = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert rendered in dom, f"{name!r} not rendered"
    assert site.public_key in dom
    assert dom.count('class="qr-code"') == len(ROOMS) + 1


def test_room_page_qr_code_decodes_to_the_join_url(
    chromium: Chromium, site: WebServer, tmp_path: Path
) -> None:
    url = site.join_url("lokinet")
    shot = chromium.screenshot(url, tmp_path / "room.png")
    assert decode_qr_codes(shot) == [url]
    assert brightness(shot, (3, 3)) > 200  # light mode by default


def test_dark_mode_page_still_scans(chromium: Chromium, site: WebServer, tmp_path: Path) -> None:
    url = site.join_url("crypto_talk")
    shot = chromium.screenshot(url, tmp_path / "dark.png", dark=True)
    assert brightness(shot, (3, 3)) < 60  # the page follows prefers-color-scheme
    assert decode_qr_codes(shot) == [url]


def test_every_qr_code_on_the_index_scans(
    chromium: Chromium, site: WebServer, tmp_path: Path
) -> None:
    shot = chromium.screenshot(site.base_url + "/", tmp_path / "index.png", size="1280,2400")
    expected = {site.join_url(room) for room in [*ROOMS, "main"]}
    assert set(decode_qr_codes(shot)) == expected


def test_unknown_room_page_renders(chromium: Chromium, site: WebServer) -> None:
    dom = chromium.dom(site.base_url + "/nosuchroom?public_key=" + site.public_key)
    assert "No such room" in dom


def test_on_a_phone_sized_screen_the_qr_code_scans(
    chromium: Chromium, site: WebServer, tmp_path: Path
) -> None:
    shot = chromium.screenshot(site.join_url("lokinet"), tmp_path / "phone.png", size="360,800")
    assert decode_qr_codes(shot) == [site.join_url("lokinet")]
