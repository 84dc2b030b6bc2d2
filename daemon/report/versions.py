"""Versions of the consolidated draft: every version is kept, one folder each
(STORAGE/drafts/CAMPAIGN/CYCLE/v2/), a late report makes a new one. The version number is
carried as a number from here to the writers (the "-v2" in the file names) and the staff's mail;
nothing reads it back from a folder name. Pure: the ledger rows in, a decision out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PREVIEW_FOLDER = "xem-truoc"  # `tonghop draft` without --out: a preview, never a version


@dataclass(frozen=True)
class NextVersion:
    version: int
    submission_ids: list[int]  # what this version consolidates (kept in the drafts table)
    new_rows: list[dict]  # rows the previous version did not have ([] for the first)


def next_version(last: dict | None, rows: list[dict]) -> NextVersion | None:
    """The version to write for these submission rows after `last` (the drafts table's newest row
    for the cycle, or None): None when the last version already consolidates exactly them."""
    ids = sorted(r["id"] for r in rows)
    if last is None:
        return NextVersion(1, ids, [])
    known = json.loads(last["submissions"])
    if known == ids:
        return None
    known_set = set(known)
    return NextVersion(last["version"] + 1, ids, [r for r in rows if r["id"] not in known_set])


def cycle_folder(storage_root: Path, campaign_id: str, cycle: str) -> Path:
    return Path(storage_root) / "drafts" / campaign_id / cycle


def version_folder(storage_root: Path, campaign_id: str, cycle: str, version: int) -> Path:
    return cycle_folder(storage_root, campaign_id, cycle) / f"v{version}"


def preview_folder(storage_root: Path, campaign_id: str, cycle: str) -> Path:
    return cycle_folder(storage_root, campaign_id, cycle) / PREVIEW_FOLDER
