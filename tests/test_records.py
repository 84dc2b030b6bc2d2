"""Facts cross the ledger typed: what intake records (facts_record -> JSON in attachments.facts)
comes back as the same DocumentFacts through parsers.model.facts_from_json, the one function
every reader of the ledger's facts uses."""
from __future__ import annotations

import json

from daemon.intake.decide import facts_record
from parsers.document import read_document
from parsers.model import Attachment, DocumentFacts, Fact, facts_from_json
from tonghop_demo.samples import THAP_MUOI, report_docx, sample_unit

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_report_s_facts_survive_the_ledger():
    unit = sample_unit(next(u for u in THAP_MUOI if u.id == "xa-my-hoa"))
    doc = read_document(Attachment("bc.docx", DOCX, report_docx(unit, 2024, kind="BC")))
    assert doc.facts is not None and doc.facts.sections and doc.facts.figures
    text = json.dumps(facts_record(doc), ensure_ascii=False)  # what Store.record writes
    assert facts_from_json(text) == doc.facts
    assert facts_from_json(json.loads(text)) == doc.facts


def test_what_the_ledger_may_hold_never_raises():
    assert facts_from_json(None) is None and facts_from_json("") is None
    assert facts_from_json("not json") is None and facts_from_json("[1, 2]") is None
    old = facts_from_json('{"number": "45/BC-UBND", "sections": [{"heading": "I"}, 3], "figures": [{"value": "x"}]}')
    assert isinstance(old, DocumentFacts) and old.number == Fact("45/BC-UBND", 1.0)
    assert old.issuer == Fact(None, 0.0) and old.sections[0].level == 1 and old.figures == ()
