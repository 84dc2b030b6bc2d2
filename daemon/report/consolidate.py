"""Units' routed sentences -> the paragraphs of each outline part, in the Ủy ban's voice. Pure.

The model (model.py) routes each unit's sentences to a part of the outline (routing.py) and
hands them here with where they came from. Here:

- a proposal ("Đề nghị UBND huyện ...") moves to the part with role "direction" as the district's
  own task when it is addressed to the district, or to the part with role "proposals" when it is
  addressed to the level above (voice.proposal);
- other sentences lose their self-reference (voice.strip_self) and are merged (text.Merger:
  near-duplicates once, quantities summed);
- each part's paragraphs: what several units wrote alike, as one sentence with a collective or
  listed subject ("Các cơ quan, đơn vị và UBND các xã, thị trấn đã ..."); then each unit's own
  contributions under its name, named once; in "direction", tasks without names; in
  "proposals", each proposal with whose it is.

Every printed sentence carries its Trace (unit, document, heading) for the clerk's notes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from daemon.config import DraftSpec
from daemon.report.text import Keys, Merger, finish, name_list
from daemon.report.voice import SELF, proposal, starts_with_verb, strip_self, voiced

_OFFICES = ("department", "service_unit")
_BULLET = re.compile(r"^[-+•*–]\s+")  # "cơ quan, đơn vị"; the rest are xã, thị trấn


@dataclass(frozen=True)
class Source:
    unit_id: str
    unit: str
    document: str  # "Báo cáo số 45/BC-UBND ngày 15/10/2024"
    heading: str  # the unit's heading the sentence stood under ("" before any heading)


@dataclass(frozen=True)
class Trace:
    """One printed sentence and the units' passages it was taken from."""

    sentence: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Para:
    lead: str = ""  # who said it ("UBND xã Mỹ Hòa:"), printed in italics before the text
    text: str = ""
    flag: bool = False  # a point the clerk must look at (a commune whose head is not in charge)
    traces: tuple[Trace, ...] = ()  # where each sentence of the text comes from (framing: none)


class Consolidation:
    """Collects routed sentences per outline target ((section, area or None)) and writes them."""

    def __init__(self, spec: DraftSpec, keys: Keys, units) -> None:
        self.spec, self.keys, self.units = spec, keys, list(units)
        self.roles = [s.role for s in spec.sections]
        self.direction = next((k for k, r in enumerate(self.roles) if r == "direction"), None)
        self.proposals = next((k for k, r in enumerate(self.roles) if r == "proposals"), None)
        self.mergers: dict[tuple[int, int | None], Merger] = {}
        self.reporting: set[int] = set()

    def add(self, target: tuple[int, int | None], sentence: str, unit: int, document: str, heading: str) -> None:
        self.reporting.add(unit)
        sentence = _BULLET.sub("", sentence)  # a unit's list mark; the draft sets its own
        text = sentence
        wish = proposal(sentence, self.spec.district_names, self.keys.fold)
        if wish is not None and wish.to_district and self.direction is not None:
            target, text = (self.direction, None), wish.task
        elif wish is not None and not wish.to_district and self.proposals is not None:
            target = (self.proposals, None)
        else:
            text = strip_self(self._unlabelled(target, sentence))
        merger = self.mergers.get(target)
        if merger is None:
            merger = self.mergers[target] = Merger(self.spec.similarity, self.keys)
        merger.add(text, unit, (document, heading))

    def _unlabelled(self, target: tuple[int, int | None], sentence: str) -> str:
        """ "Nguyên nhân: thiếu người." under "Nguyên nhân" -> "Thiếu người.": the area's title says it."""
        if target[1] is None:
            return sentence
        title = self.spec.sections[target[0]].areas[target[1]].title
        head, colon, rest = sentence.partition(":")
        if colon and rest.strip() and self.keys.fold(head) == self.keys.fold(title):
            return rest.strip()[:1].upper() + rest.strip()[1:]
        return sentence

    # -- writing -------------------------------------------------------------------------------

    def subject(self, positions: list[int]) -> str:
        """Who wrote it: the names of a few units, else the collective with honest counts."""
        if len(positions) <= self.spec.max_named_units:
            return name_list([self.units[p].name for p in positions])
        offices = [p for p in positions if self.units[p].kind in _OFFICES]
        local = [p for p in positions if self.units[p].kind not in _OFFICES]
        all_offices = sum(1 for p in self.reporting if self.units[p].kind in _OFFICES)
        all_local = len(self.reporting) - all_offices
        parts = []
        if offices:
            parts.append("Các cơ quan, đơn vị" if len(offices) == all_offices else f"{len(offices)} cơ quan, đơn vị")
        if local:
            parts.append("UBND các xã, thị trấn" if len(local) == all_local else f"UBND {len(local)} xã, thị trấn")
        return " và ".join(parts)

    def _trace(self, sentence: str, group) -> Trace:
        sources = []
        for p in group.units:
            document, heading = group.origins.get(p) or ("", "")
            unit = self.units[p]
            sources.append(Source(unit.id, unit.name, document, heading))
        return Trace(sentence, tuple(sources))

    def paragraphs(self, target: tuple[int, int | None], keep=None) -> list[Para]:
        """The target's paragraphs; `keep` (figures.OneTotal.keep) restates or drops a merged group
        whose figure would print a second total beside the reconciled one."""
        merger = self.mergers.get(target)
        if merger is None:
            return []
        groups = merger.consolidated()
        if keep is not None:
            groups = [g for g in map(keep, groups) if g is not None]
        role = self.roles[target[0]]
        if role == "direction":
            # The Ủy ban's own tasks: one line each, no unit named (the notes say whose).
            out, seen = [], set()
            for g in sorted(groups, key=lambda g: -len(g.units)):
                text = finish(voiced(g.text, ""))
                if text not in seen:
                    seen.add(text)
                    out.append(Para(text="- " + text, traces=(self._trace(text, g),)))
            return out
        if role == "proposals":
            out = []
            for g in sorted(groups, key=lambda g: -len(g.units)):
                body = finish(voiced(g.text, "")).rstrip(".")
                text = f"{body} ({self.subject(sorted(g.units))})."
                out.append(Para(text="- " + text, traces=(self._trace(text, g),)))
            return out
        shared = sorted((g for g in groups if len(g.units) > 1), key=lambda g: (not g.summed, -len(g.units)))
        out = []
        traces = tuple(self._trace(finish(voiced(g.text, self.subject(sorted(g.units)))), g) for g in shared)
        if traces:
            out.append(Para(text=" ".join(t.sentence for t in traces), traces=traces))
        own: dict[int, list] = {}
        for g in groups:
            if len(g.units) == 1:
                own.setdefault(g.units[0], []).append(g)
        for p in sorted(own):
            # Named once: as the subject of its first sentence when that sentence has a place for
            # one ("Phòng Y tế đã tổ chức ..."), else in the lead ("Phòng Y tế: Cán bộ ...").
            # The unit's further sentences then read without a subject of their own.
            name, first = self.units[p].name, own[p][0].text
            subject_first = first.startswith(SELF) or starts_with_verb(first)
            traces = tuple(self._trace(finish(voiced(g.text, name if subject_first and k == 0 else "")), g)
                           for k, g in enumerate(own[p]))
            out.append(Para(lead="" if subject_first else name + ":", text=" ".join(t.sentence for t in traces),
                            traces=traces))
        return out
