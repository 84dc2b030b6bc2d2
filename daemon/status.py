"""Where each unit stands, per requirement: pure functions over the ledger's submission rows.

A unit may send a requirement several times (a corrected version, a signed copy after a draft):
every version is kept. The newest version is the one whose facts count (number, date, files);
whether the duty was met on time is judged by the first version, because a unit that sent in
time and later sent a correction did meet the deadline.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from daemon.config import Campaign, Config, Unit

STATUS_WORDS = {"on_time": "đúng hạn", "late": "trễ hạn", "missing": "chưa nộp"}


@dataclass(frozen=True)
class Cell:
    status: str  # on_time | late | missing
    received_at: str | None = None  # of the newest version
    first_received_at: str | None = None
    doc_number: str | None = None
    doc_date: str | None = None
    doc_title: str | None = None
    files: tuple[str, ...] = ()
    message: int | None = None
    versions: int = 0


def campaign_units(config: Config, campaign: Campaign, day) -> list[Unit]:
    return [u for u in (config.unit(i) for i in campaign.unit_ids) if u is not None and u.active_on(day)]


def cells(config: Config, campaign: Campaign, cycle: str, rows: list[dict]) -> dict[tuple[str, str], Cell]:
    """(unit id, requirement id) -> Cell for every unit of the campaign; rows are submissions."""
    tz = config.office.timezone
    by_key: dict[tuple[str, str], dict[int, list[dict]]] = {}
    for row in rows:
        if row["campaign"] != campaign.id or row["cycle"] != cycle:
            continue
        by_key.setdefault((row["unit_id"], row["requirement"]), {}).setdefault(row["message"], []).append(row)
    out = {}
    for unit_id in campaign.unit_ids:
        for req in campaign.requirements:
            versions = by_key.get((unit_id, req.id))
            if not versions:
                out[(unit_id, req.id)] = Cell("missing")
                continue
            ordered = sorted(versions.values(), key=lambda v: (datetime.fromisoformat(v[0]["received_at"]), v[0]["message"]))
            first, newest = ordered[0][0], ordered[-1]
            deadline = campaign.deadline(req, cycle, tz)
            on_time = datetime.fromisoformat(first["received_at"]) < deadline
            out[(unit_id, req.id)] = Cell(
                status="on_time" if on_time else "late",
                received_at=newest[0]["received_at"],
                first_received_at=first["received_at"],
                doc_number=newest[0]["doc_number"],
                doc_date=newest[0]["doc_date"],
                doc_title=newest[0]["doc_title"],
                files=tuple(dict.fromkeys(r["filename"] for r in newest if r.get("filename"))),
                message=newest[0]["message"],
                versions=len(ordered),
            )
    return out


def owed(campaign: Campaign, table: dict[tuple[str, str], Cell], unit_id: str) -> list[str]:
    return [r.id for r in campaign.requirements if table[(unit_id, r.id)].status == "missing"]


def counts(campaign: Campaign, table: dict[tuple[str, str], Cell]) -> dict[str, dict[str, int]]:
    """requirement id -> {"on_time": n, "late": n, "missing": n}"""
    out = {r.id: {"on_time": 0, "late": 0, "missing": 0} for r in campaign.requirements}
    for (_, req_id), cell in table.items():
        out[req_id][cell.status] += 1
    return out


def status_document(config: Config, rows: list[dict], now: datetime, campaign_id: str | None = None,
                    cycle: str | None = None) -> dict:
    """The `status --json` document of the contract (DESIGN.md)."""
    tz: ZoneInfo = config.office.timezone
    campaigns = []
    for campaign in config.campaigns:
        if campaign_id and campaign.id != campaign_id:
            continue
        c = cycle or campaign.cycle_of(now, tz)
        table = cells(config, campaign, c, rows)
        units = []
        for unit_id in campaign.unit_ids:
            unit = config.unit(unit_id)
            units.append({
                "id": unit_id,
                "name": unit.name,
                "submissions": {
                    req.id: {
                        "status": table[(unit_id, req.id)].status,
                        "received_at": table[(unit_id, req.id)].received_at,
                        # the first receipt, which decides on_time/late (a later resend keeps it)
                        "first_received_at": table[(unit_id, req.id)].first_received_at,
                        "doc_number": table[(unit_id, req.id)].doc_number,
                        "doc_date": table[(unit_id, req.id)].doc_date,
                        "files": list(table[(unit_id, req.id)].files),
                    }
                    for req in campaign.requirements
                },
            })
        campaigns.append({
            "id": campaign.id,
            "cycle": c,
            "title": campaign.title,
            "requirements": [
                {"id": r.id, "name": r.name, "deadline": campaign.deadline(r, c, tz).isoformat()}
                for r in campaign.requirements
            ],
            "units": units,
        })
    return {"generated_at": now.isoformat(timespec="seconds"), "campaigns": campaigns}
