"""`make screenshots` without running it (a run needs a whole demo city): its list of pictures
(scripts/screenshots.json) is exactly what the README shows and what docs/images holds, each
picture is taken by the script, and the committed PNGs are the promised size."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = json.loads((REPO / "scripts" / "screenshots.json").read_text())
NAMES = [picture["name"] for picture in CONFIG["pictures"]]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


def test_the_readme_shows_every_picture_and_only_those() -> None:
    readme = (REPO / "README.md").read_text()
    shown = re.findall(r"!\[[^\]]+\]\(docs/images/([\w-]+)\.png\)", readme)
    assert sorted(shown) == sorted(NAMES) and len(shown) == len(set(shown))
    assert sorted(p.stem for p in (REPO / "docs" / "images").glob("*.png")) == sorted(NAMES)
    assert {"booth", "receipt", "results", "ledger", "ceremony"} <= set(NAMES)
    assert "make screenshots" in readme


def test_the_script_takes_each_picture_and_the_pngs_are_small() -> None:
    script = (REPO / "scripts" / "screenshots.mjs").read_text()
    for name in NAMES:
        assert f'"{name}"' in script, name
        width, height = png_size(REPO / "docs" / "images" / f"{name}.png")
        assert width == CONFIG["width"] == 1200 and height <= CONFIG["max_height"], name
        assert (REPO / "docs" / "images" / f"{name}.png").stat().st_size < 200_000, name
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^screenshots:.*\n\tbash scripts/screenshots\.sh$", makefile, re.M)
    shell = REPO / "scripts" / "screenshots.sh"
    assert subprocess.run(["bash", "-n", str(shell)], check=False).returncode == 0
    # its own demo city never takes the port of `make run`
    assert "PORT=${CIVIC_SCREENSHOT_PORT:-8130}" in shell.read_text()
