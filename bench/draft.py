#!/usr/bin/env python3
"""Time and peak memory to build and write the consolidated draft for 50, 500 and 2,000 units.

Each size runs in its own process (peak RSS is per process), on a generated configuration (the
example's settings and campaign, N synthetic units) and synthetic ledger rows: the facts of a few
real sample reports (daemon.samples -> .docx -> parsers) cloned per unit with the unit's own
numbers, so the text work (routing, near-duplicate merging, summing) is realistic. 85 % of units
send on time, 10 % late, 5 % not at all. Target: under 10 s and 300 MB at 2,000 units.

Usage: python bench/draft.py [N ...]      (default: 50 500 2000)
Not a test: it prints figures and never fails on speed.
"""
from __future__ import annotations

import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS = ("commune", "commune", "commune", "department", "service_unit", "town")


def make_config(tmp: Path, n: int) -> Path:
    cfg = tmp / "config"
    shutil.copytree(ROOT / "config", cfg)
    shutil.copytree(ROOT / "templates", tmp / "templates")
    lines = []
    for k in range(n):
        kind = KINDS[k % len(KINDS)]
        name = {"commune": f"UBND xã Số {k}", "town": f"UBND thị trấn Số {k}", "department": f"Phòng Số {k}",
                "service_unit": f"Trung tâm Số {k}"}[kind]
        lines += ["[[unit]]", f'id = "dv-{k}"', f'name = "{name}"', f'kind = "{kind}"',
                  f'emails = ["dv{k}@bench.example"]', ""]
    (cfg / "units.toml").write_text("\n".join(lines), encoding="utf-8")
    campaign = cfg / "campaigns" / "dan-van.toml"
    campaign.write_text(campaign.read_text(encoding="utf-8").replace('exclude_units = ["phong-noi-vu"]',
                                                                     "exclude_units = []"), encoding="utf-8")
    return cfg


def sample_facts() -> list[dict]:
    """Facts of real generated reports, read back by the parsers (one per template unit)."""
    from daemon.intake.decide import facts_record
    from tonghop_demo.samples import THAP_MUOI, report_docx
    from parsers.document import read_document
    from parsers.model import Attachment

    out = []
    for unit in THAP_MUOI[:2] + THAP_MUOI[13:15] + THAP_MUOI[25:27]:
        doc = read_document(Attachment(filename="bc.docx", content_type="", data=report_docx(unit, 2024, kind="BC")))
        out.append(facts_record(doc))
    return out


def synthetic_rows(config, campaign, templates: list[dict]) -> list[dict]:
    rng = random.Random(7)
    rows, mid = [], 0
    number = re.compile(r"(?<![\d/.,-])(?<!số )\d{1,4}(?![\d/-])")  # quantities, not identifiers
    for k, uid in enumerate(campaign.unit_ids):
        roll = rng.random()
        if roll < 0.05:
            continue
        late = roll > 0.90
        base = templates[k % len(templates)]
        for req in campaign.requirements:
            mid += 1
            facts = json.loads(json.dumps(base))
            facts["number"] = f"{rng.randint(1, 300)}/{req.doc_types[0]}-DV{k}"
            for sec in facts["sections"]:  # this unit's own numbers (years and document numbers kept)
                sec["text"] = number.sub(lambda m: m.group() if len(m.group()) == 4 else str(rng.randint(1, 99)),
                                         sec["text"])
            for fig in facts["figures"]:
                fig["value"] = round(rng.uniform(90, 100), 1) if fig["code"] == "DV05" else float(rng.randint(1, 400))
            received = datetime(2024, 10, 21 if late else 10, 9, tzinfo=TZ) + timedelta(seconds=k)
            rows.append({
                "id": mid, "message": mid, "attachment": mid, "unit_id": uid, "campaign": campaign.id,
                "cycle": "2024", "requirement": req.id, "received_at": received.isoformat(),
                "doc_number": facts["number"], "doc_date": "2024-10-05", "doc_title": facts["title"],
                "recorded_at": received.isoformat(), "filename": "bao-cao.docx",
                "facts": json.dumps(facts, ensure_ascii=False),
            })
    return rows


def run_one(n: int) -> dict:
    from daemon.config_toml import load_config
    from daemon.report.model import build_model
    from daemon.report.notes import write_notes
    from daemon.report.writers import write_draft

    with tempfile.TemporaryDirectory(prefix="tonghop-bench-") as tmp:
        config = load_config(make_config(Path(tmp), n))
        campaign = config.campaign("dan-van")
        rows = synthetic_rows(config, campaign, sample_facts())
        now = datetime(2024, 10, 22, 8, tzinfo=TZ)
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        model = build_model(config, campaign, "2024", rows, now)
        t1 = time.perf_counter()
        docx, xlsx = write_draft(config, model, Path(tmp) / "v1", version=1)
        write_notes(model, docx)  # the clerk's notes go with every draft
        t2 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        return {"units": n, "rows": len(rows), "build_s": round(t1 - t0, 2), "write_s": round(t2 - t1, 2),
                "total_s": round(t2 - t0, 2), "peak_rss_mb": round(peak / 1024, 1),
                "rss_before_mb": round(base_rss / 1024, 1), "docx_kb": docx.stat().st_size // 1024,
                "xlsx_kb": xlsx.stat().st_size // 1024, "paragraphs": sum(
                    len(s.paragraphs) + sum(len(a.paragraphs) for a in s.areas) for s in model.sections)}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [50, 500, 2000]
    print(f"machine: {platform.platform()}, python {platform.python_version()}, {os.cpu_count()} cpu, "
          f"{platform.processor() or platform.machine()}")
    print(f"{'units':>6} {'rows':>6} {'build s':>8} {'write s':>8} {'total s':>8} {'peak RSS MB':>12} "
          f"{'docx KB':>8} {'xlsx KB':>8} {'paragraphs':>10}")
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['units']:>6} {r['rows']:>6} {r['build_s']:>8} {r['write_s']:>8} {r['total_s']:>8} "
              f"{r['peak_rss_mb']:>12} {r['docx_kb']:>8} {r['xlsx_kb']:>8} {r['paragraphs']:>10}")
    print("target at 2000 units: total under 10 s, peak RSS under 300 MB (the whole process, imports included)")


if __name__ == "__main__":
    main(sys.argv[1:])
