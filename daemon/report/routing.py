"""Where a unit's text goes in the draft: its sections are routed by heading to the draft's sections
and areas (config [draft] sections, DraftSpec), then sentences by keyword inside a section that has
areas. Pure; headings recur across units, so each is matched once.
"""
from __future__ import annotations

import re

from daemon.config import DraftSpec
from daemon.report.text import Keys, Phrases, sentences
from parsers.model import Section as DocSection


class Router:
    """Sends a unit's sections and sentences to the draft's sections and areas (see module doc)."""

    def __init__(self, spec: DraftSpec, keys: Keys):
        self.keys = keys
        self.targets: list[tuple[int, int | None]] = []  # (section index, area index or None)
        self.headings: list[Phrases] = []
        self.keywords: list[Phrases] = []
        for s, sec in enumerate(spec.sections):
            self._add((s, None), sec.headings, sec.keywords)
            for a, area in enumerate(sec.areas):
                self._add((s, a), area.headings, area.keywords)
        self.sections = spec.sections
        self.skip = Phrases(spec.skip_sentences, keys)
        self._matches: dict = {}
        self._areas: dict = {}

    def _add(self, target, headings, keywords):
        self.targets.append(target)
        self.headings.append(Phrases(headings, self.keys))
        self.keywords.append(Phrases(keywords, self.keys))

    def _match(self, heading: str, within: int | None = None) -> tuple[int, int | None] | None:
        key = (heading, within)
        if key not in self._matches:  # headings recur across units: match each once
            self._matches[key] = self._match_uncached(heading, within)
        return self._matches[key]

    def _area(self, target, sentence: str):
        key = (target[0], self.keys.fold(sentence))
        if key not in self._areas:
            # The area whose keyword comes first in the sentence: "Nguyên nhân: ... chưa đồng
            # đều" is a cause, though "chưa" is a keyword of the shortcomings too.
            best = None
            for k, t in enumerate(self.targets):
                if t[0] != target[0] or t[1] is None:
                    continue
                at = self.keywords[k].position(sentence)
                if at is not None and (best is None or at < best[0]):
                    best = (at, t)
            self._areas[key] = best[1] if best else None
        return self._areas[key]

    def _match_uncached(self, heading: str, within: int | None) -> tuple[int, int | None] | None:
        section, areas = None, []
        for k, target in enumerate(self.targets):
            if within is not None and (target[0] != within or target[1] is None):
                continue
            if (section or areas) and target[0] != (section or areas[0])[0]:
                break
            if self.headings[k].found_in(heading):
                if target[1] is None:
                    section = target
                else:
                    areas.append(target)
        # One area named by the heading is the precise place ("Bài học kinh nghiệm"); a heading
        # naming several ("Hạn chế, nguyên nhân") stays with the part, whose areas then take
        # its sentences by keyword.
        if len(areas) == 1:
            return areas[0]
        if areas and within is None:
            return (areas[0][0], None)
        return section

    def _has_areas(self, target) -> bool:
        return target is not None and target[1] is None and bool(self.sections[target[0]].areas)

    def route(self, unit_sections: tuple[DocSection, ...]):
        """Yields (target, sentence, the unit's heading) for every sentence of its sections; target None: unplaced."""
        stack: list[tuple[int, tuple[int, int | None] | None]] = []  # (level, target)
        for sec in unit_sections:
            level = sec.level or 1
            heading = re.sub(r"^\s*[\dIVXLivxl]+[.)]\s*|^\s*[a-zđ][.)]\s*", "", sec.heading)
            while stack and stack[-1][0] >= level:
                stack.pop()
            parent = next((t for _, t in reversed(stack) if t is not None), None)
            if parent is None:
                target = self._match(heading)
            elif self._has_areas(parent):
                target = self._match(heading, within=parent[0]) or self._match(heading) or parent
            else:
                # A sub-heading that names another part of the outline goes there ("1. Công tác
                # tuyên truyền" under a unit's "I. Tình hình triển khai").
                target = self._match(heading) or parent
            stack.append((level, target))
            for sentence in sentences(sec.text):
                if self.skip.starts(sentence):
                    continue
                if self._has_areas(target):
                    yield (self._area(target, sentence) or target), sentence, sec.heading
                else:
                    yield target, sentence, sec.heading
