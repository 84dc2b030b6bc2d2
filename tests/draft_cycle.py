"""A realistic campaign cycle for the draft's tests: the example config's 28 units, each sending
real generated documents (daemon.samples -> .docx -> parsers -> facts) into a real ledger
(daemon.store.Store), with on-time, late, missing, replaced and flagged cases."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon.config import Config
from daemon.config_toml import load_config
from daemon.intake.decide import facts_record, matching_requirements
from daemon.records import AttachmentRecord, Outcome, SubmissionRecord, sha256_of
from daemon.store import Store
from tonghop_demo.samples import report_docx
from parsers.document import read_document
from parsers.model import Attachment

EXAMPLE = Path(__file__).resolve().parent.parent / "config"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 10, 22, 8, 0, tzinfo=TZ)  # two days after the deadline (20/10/2024 00:00)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FLAGGED = "xa-my-quy"  # assigns a Phó Chủ tịch: must be flagged
FLAGGED_LEADER = "Nguyễn Văn Tám, Phó Chủ tịch UBND xã Mỹ Quý"
REPLACED = "phong-tu-phap"  # sends its report twice


@dataclass
class Cycle:
    config: Config
    store: Store
    missing: set[str]  # sent nothing
    no_plan: set[str]
    late: set[str]  # report after the deadline
    next_id: int = 0

    @property
    def campaign(self):
        return self.config.campaign("dan-van")

    def rows(self) -> list[dict]:
        return self.store.submissions("dan-van", "2024", facts=True)

    def send(self, unit_id: str, kind: str, received: datetime, **options) -> None:
        """One mail with one real .docx, decided and recorded like the runner does."""
        unit = self.config.unit(unit_id)
        data = report_docx(unit, 2024, kind=kind, **options)
        doc = read_document(Attachment(filename=f"{kind.lower()}-{unit_id}.docx", content_type=DOCX, data=data))
        reqs = matching_requirements(doc, self.campaign)
        assert reqs, (unit_id, kind, doc.facts)
        self.next_id += 1
        sha = sha256_of(data + str(self.next_id).encode())
        msg_id, _ = self.store.claim(("test", "INBOX", 1, str(self.next_id)), sha256=sha, size=len(data),
                                     message_id=f"<{self.next_id}@test>", received_at=received.isoformat())
        facts = doc.facts
        att = AttachmentRecord(filename=doc.filename, path="", content_type=DOCX, kind=doc.kind, size=len(data),
                               sha256=sha256_of(data), facts=facts_record(doc))
        subs = tuple(SubmissionRecord(0, "dan-van", "2024", r, facts.number.value, facts.date.value,
                                      facts.title.value) for r in reqs)
        self.store.record(msg_id, Outcome(status="recorded", reason="thử", unit_id=unit_id, attachments=(att,),
                                          submissions=subs, from_addr=unit.emails[0]))


def build_cycle(tmp: Path) -> Cycle:
    config = load_config(EXAMPLE)
    campaign = config.campaign("dan-van")
    ids = list(campaign.unit_ids)
    store = Store(tmp / "tonghop.db", tmp / "archive")
    cycle = Cycle(config, store, missing={ids[4], ids[13], ids[22]}, no_plan={ids[3], ids[10], ids[17]},
                  late={ids[5], ids[11], ids[16], ids[23]})
    styles = ("table", "table", "paragraphs", "stacked")
    for n, unit_id in enumerate(ids):
        if unit_id in cycle.missing:
            continue
        header = styles[n % len(styles)]
        if unit_id not in cycle.no_plan:
            cycle.send(unit_id, "KH", datetime(2024, 2, 1, 8, 0, tzinfo=TZ) + timedelta(hours=n), header=header)
        received = (datetime(2024, 10, 21, 9, 0, tzinfo=TZ) if unit_id in cycle.late
                    else datetime(2024, 10, 10, 9, 0, tzinfo=TZ)) + timedelta(minutes=7 * n)
        options = {"header": header}
        if unit_id == FLAGGED:
            options["leader"] = FLAGGED_LEADER
        if n == 8:
            options["legacy"] = "tcvn3"  # an old office's .VnTime document
        cycle.send(unit_id, "BC", received, **options)
        if unit_id == REPLACED:  # a corrected version two days later: still on time, newest counts
            cycle.send(unit_id, "BC", received + timedelta(days=2), header=header, number=199)
    return cycle
