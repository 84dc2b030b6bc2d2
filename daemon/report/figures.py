"""The draft's figures: each unit's values of the campaign's indicators and their totals (Phụ lục II
and the areas' figure sentences). Pure.

A unit's value of an indicator comes from the figures table (Store.figures: what intake read from
its filled form, or from the table it read the form's indicators from) first, then from its
report's own tables (the facts' Figures); percentages ("Tỷ lệ ...", unit "%") are averaged,
everything else summed.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from daemon.config import Campaign
from daemon.report.text import Keys, number_text
from parsers.figures import Indicator
from parsers.model import Figure


@dataclass(frozen=True)
class IndicatorTotal:
    code: str
    name: str
    unit: str
    method: str  # "sum" | "mean"
    total: float | None
    total_text: str  # "98,5 (bình quân)"
    value_text: str  # "98,5"
    reported: int  # units that gave a value


@dataclass(frozen=True)
class FigureLine:
    stt: str
    unit_id: str
    unit: str
    values: tuple[float | None, ...]
    texts: tuple[str, ...]


def _is_rate(ind: Indicator, keys: Keys) -> bool:
    return ind.unit.strip() == "%" or keys.ascii(ind.name).startswith(("ty le", "ti le"))


def indicator_totals(campaign: Campaign, units, unit_figures: list[list[Figure]],
             recorded: Mapping[str, Mapping[str, float]], keys: Keys):
    """(indicator totals, per-unit lines) for Phụ lục II and the areas' figure sentences.

    A unit's value of an indicator comes from the figures intake recorded for it (its filled form,
    or the table intake read the form's indicators from) first, then from its report's own tables:
    nothing intake recorded is left out of the draft."""
    indicators = list(campaign.indicators)  # read from the form when the config was loaded
    if not indicators:  # no form: the indicators the units' tables show, in order of appearance
        seen: dict[str, Indicator] = {}
        for figs in unit_figures:
            for f in figs:
                code = (f.code or "").strip()
                key = code or keys.fold(f.row)
                if key and key not in seen:
                    seen[key] = Indicator(code or "", f.row, "")
        indicators = list(seen.values())
    if not indicators:
        return (), ()
    by_key = {(i.code or i.name): n for n, i in enumerate(indicators)}  # Store.figures' codes (read_indicators)
    by_code = {i.code: n for n, i in enumerate(indicators) if i.code}
    by_name = {keys.fold(i.name): n for n, i in enumerate(indicators)}
    lines, values_by_ind = [], [[] for _ in indicators]
    for unit, figs in zip(units, unit_figures):
        values: list[float | None] = [None] * len(indicators)
        for code, value in (recorded.get(unit.id) or {}).items():
            n = by_key.get(code)
            if n is not None and value is not None:
                values[n] = float(value)
        for f in figs:
            n = by_code.get((f.code or "").strip())
            if n is None:
                n = by_name.get(keys.fold(f.row))
            if n is not None and values[n] is None:
                values[n] = float(f.value)
        if all(v is None for v in values):
            continue
        for n, v in enumerate(values):
            if v is not None:
                values_by_ind[n].append(v)
        lines.append(FigureLine(str(len(lines) + 1), unit.id, unit.name, tuple(values),
                                tuple(number_text(v) for v in values)))
    totals = []
    for ind, vals in zip(indicators, values_by_ind):
        rate = _is_rate(ind, keys)
        total = (sum(vals) / len(vals) if rate else sum(vals)) if vals else None
        if total is not None and rate:
            total = round(total, 2)
        text = number_text(total) + (" (bình quân)" if rate and total is not None else "")
        unit = ind.unit or ("%" if rate else "")
        totals.append(IndicatorTotal(ind.code or str(len(totals) + 1), ind.name, unit, "mean" if rate else "sum",
                                     total, text, number_text(total), len(vals)))
    return tuple(totals), tuple(lines)
