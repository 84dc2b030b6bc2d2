"""Where the example configuration and the templates a new office starts from are found.

In a source checkout they are the repository's config/ and templates/; in an installed wheel the
same folders travel as package data under daemon/skeleton/ (pyproject.toml maps them there, so
there is one copy of each file). `tonghop init DIR` and the demo copy them from here.
"""
from __future__ import annotations

import shutil
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def root() -> Path:
    """The folder that holds config/ and templates/."""
    for candidate in (_HERE.parent, _HERE / "skeleton"):
        if (candidate / "config" / "settings.toml").is_file() and (candidate / "templates" / "email").is_dir():
            return candidate
    raise FileNotFoundError(f"không tìm thấy cấu hình mẫu cạnh {_HERE} (cài đặt tonghop bị thiếu tệp)")


def copy_to(target: Path) -> tuple[Path, Path]:
    """Copy config/ and templates/ into target (which must not hold them yet)."""
    base = root()
    config, templates = target / "config", target / "templates"
    shutil.copytree(base / "config", config)
    shutil.copytree(base / "templates", templates)
    return config, templates
