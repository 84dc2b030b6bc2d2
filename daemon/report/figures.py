"""The draft's figures, reconciled: one value per indicator and unit, one total per indicator, and
a list of what the clerk should check. Pure (typed records in, typed records out).

Where a unit's value of an indicator comes from, first found wins:
1. the figures the ledger recorded for it (Store.figures: its filled campaign form, or the report
   table intake read the form's indicators from);
2. its report's own tables (the facts' Figures, matched by code, then by name);
3. a number its report's text states (daemon.report.stated: "tiếp nhận 500 hồ sơ"), the unit's
   only source then, and said so in the checks.

Every other source that says something else is a check line, never a second total: the draft
prints one total per indicator, and the clerk reads why in "Cần kiểm tra". Negative values and
rates outside 0-100 are checks too, and stay out of the totals.

The body says the same: OneTotal restates or leaves out a sentence the merger summed over the
units when it states an indicator otherwise than its total.

Totals: counts are summed once. A rate the campaign's [figures] rates names is recomputed from
its parts (weighted by its denominator: Σ(rate × files) / Σ files, or Σ numerator / Σ denominator
× 100); a rate without a rule ("Tỷ lệ ...", unit "%") is a plain mean and says "bình quân".
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from daemon.config import Campaign, FigureRules
from daemon.report.stated import StatedReader
from daemon.report.text import Keys, number_text
from parsers.figures import Indicator
from parsers.model import Figure

FORM, TABLE, TEXT = "form", "table", "text"
SOURCE_WORDS = {FORM: "biểu số liệu", TABLE: "bảng số liệu trong báo cáo", TEXT: "nội dung báo cáo"}


@dataclass(frozen=True)
class IndicatorTotal:
    code: str
    name: str
    unit: str
    method: str  # "sum" | "mean" (a rate without a rule) | "weighted" | "ratio" (rates recomputed)
    total: float | None
    total_text: str  # "98,5 (bình quân)"
    value_text: str  # "98,5"
    reported: int  # units whose value counts in the total
    denominator: str = ""  # weighted/ratio: the code the rate is of (the .xlsx formulas use it)
    numerator: str = ""  # ratio: the code of the count


@dataclass(frozen=True)
class FigureLine:
    stt: str
    unit_id: str
    unit: str
    values: tuple[float | None, ...]
    texts: tuple[str, ...]
    sources: tuple[str, ...] = ()  # per value: form | table | text | "" (none)


@dataclass(frozen=True)
class UnitFigures:
    """What the ledger holds about one unit's figures, by source."""

    unit_id: str
    unit: str
    recorded: Mapping[str, float] = field(default_factory=dict)  # Store.figures: code -> value
    table: Sequence[Figure] = ()  # its report's own tables
    texts: Sequence[str] = ()  # its report's sections' texts
    earlier: Mapping[str, float] | None = None  # the values its previous version recorded


@dataclass(frozen=True)
class Reconciled:
    totals: tuple[IndicatorTotal, ...] = ()
    lines: tuple[FigureLine, ...] = ()
    checks: tuple[str, ...] = ()  # Vietnamese lines for the clerk ("Cần kiểm tra")


def is_rate(ind: Indicator, keys: Keys) -> bool:
    return ind.unit.strip() == "%" or keys.ascii(ind.name).startswith(("ty le", "ti le"))


def _indicators(campaign: Campaign, units: Sequence[UnitFigures], keys: Keys) -> list[Indicator]:
    if campaign.indicators:  # read from the form when the config was loaded
        return list(campaign.indicators)
    seen: dict[str, Indicator] = {}  # no form: the indicators the units' tables show, in order
    for u in units:
        for f in u.table:
            code = (f.code or "").strip()
            key = code or keys.fold(f.row)
            if key and key not in seen:
                seen[key] = Indicator(code or "", f.row, "")
    return list(seen.values())


def _label(ind: Indicator) -> str:
    return f"{ind.code} ({ind.name})" if ind.code else f"«{ind.name}»"


def reconcile(campaign: Campaign, units: Sequence[UnitFigures], keys: Keys | None = None) -> Reconciled:
    """One value per indicator and unit, the totals, and the checks (see the module's doc)."""
    keys = keys or Keys()
    indicators = _indicators(campaign, units, keys)
    if not indicators:
        return Reconciled()
    rules: FigureRules = campaign.figure_rules
    by_key = {(i.code or i.name): n for n, i in enumerate(indicators)}  # Store.figures' codes (read_indicators)
    by_code = {i.code: n for n, i in enumerate(indicators) if i.code}
    by_name = {keys.fold(i.name): n for n, i in enumerate(indicators)}
    reader = StatedReader(indicators) if campaign.indicators else None
    rate_rule = {r.code: r for r in rules.rates}
    rates = {n for n, i in enumerate(indicators) if is_rate(i, keys)}
    checks: list[str] = []
    lines: list[FigureLine] = []
    counted: list[list[tuple[int, float]]] = [[] for _ in indicators]  # (line index, value) per indicator
    for u in units:
        sources: list[dict[str, float]] = [{} for _ in indicators]
        for code, value in (u.recorded or {}).items():
            n = by_key.get(code)
            if n is not None and value is not None:
                sources[n][FORM] = float(value)
        for f in u.table:
            n = by_code.get((f.code or "").strip())
            if n is None:
                n = by_name.get(keys.fold(f.row))
            if n is not None and TABLE not in sources[n]:
                sources[n][TABLE] = float(f.value)
        if reader:
            for code, value in reader.read(u.texts).items():
                sources[by_code[code]][TEXT] = value
        values: list[float | None] = [None] * len(indicators)
        chosen: list[str] = [""] * len(indicators)
        for n, found in enumerate(sources):
            for source in (FORM, TABLE, TEXT):
                if source in found:
                    values[n], chosen[n] = found[source], source
                    break
        if all(v is None for v in values):
            continue
        from_text = [f"{ind.code or ind.name} = {number_text(values[n])}" for n, ind in enumerate(indicators)
                     if chosen[n] == TEXT]
        if from_text:  # one line per unit: its only source was its text
            checks.append(f"{u.unit}: {len(from_text)} chỉ tiêu không có trong biểu số liệu, lấy từ số liệu nêu trong "
                          f"nội dung báo cáo ({'; '.join(from_text)}); đề nghị kiểm tra.")
        for n, ind in enumerate(indicators):
            checks.extend(_source_checks(u.unit, ind, sources[n], chosen[n]))
            if u.earlier is not None and chosen[n] == FORM:
                before = u.earlier.get(ind.code or ind.name)
                if before is not None and before != values[n]:
                    checks.append(f"{u.unit}: {_label(ind)}: bản gửi trước ghi {number_text(before)}, bản gửi sau "
                                  f"ghi {number_text(values[n])}; dự thảo dùng số liệu của bản gửi sau.")
        index = len(lines)
        for n, ind in enumerate(indicators):
            v = values[n]
            if v is None:
                continue
            if v < 0 or (n in rates and v > 100):
                what = "giá trị âm" if v < 0 else "tỷ lệ lớn hơn 100%"
                checks.append(f"{u.unit}: {_label(ind)} có {what} ({number_text(v)}); không tính vào tổng hợp.")
                # Left blank in the unit's line too, so the appendix's columns (and the .xlsx's
                # formulas) add up to the total printed.
                values[n], chosen[n] = None, ""
                continue
            counted[n].append((index, v))
        for a, b in rules.at_most:
            na, nb = by_code[a], by_code[b]
            va, vb = values[na], values[nb]
            if va is not None and vb is not None and va > vb:
                checks.append(f"{u.unit}: {_label(indicators[na])} ({number_text(va)}) lớn hơn "
                              f"{_label(indicators[nb])} ({number_text(vb)}); đề nghị đơn vị kiểm tra lại.")
        lines.append(FigureLine(str(index + 1), u.unit_id, u.unit, tuple(values),
                                tuple(number_text(v) for v in values), tuple(chosen)))

    totals = []
    for n, ind in enumerate(indicators):
        rule = rate_rule.get(ind.code)
        vals = [v for _, v in counted[n]]
        unit = ind.unit or ("%" if n in rates else "")
        code = ind.code or str(n + 1)
        if rule is not None:
            total, used, method = _recomputed(rule, n, counted, by_code, lines, indicators, checks)
        elif n in rates:
            total, used, method = (round(sum(vals) / len(vals), 2) if vals else None), len(vals), "mean"
        else:
            total, used, method = (sum(vals) if vals else None), len(vals), "sum"
        text = number_text(total) + (" (bình quân)" if method == "mean" and total is not None else "")
        totals.append(IndicatorTotal(code, ind.name, unit, method, total, text, number_text(total), used,
                                     rule.denominator if rule else "", rule.numerator if rule else ""))
    return Reconciled(tuple(totals), tuple(lines), tuple(checks))


def _source_checks(unit: str, ind: Indicator, found: dict[str, float], chosen: str) -> list[str]:
    out = []
    for other in (TABLE, TEXT):
        if other != chosen and other in found and chosen and found[other] != found[chosen]:
            out.append(f"{unit}: {_label(ind)}: {SOURCE_WORDS[chosen]} ghi {number_text(found[chosen])}, "
                       f"{SOURCE_WORDS[other]} ghi {number_text(found[other])}; dự thảo dùng số liệu của "
                       f"{SOURCE_WORDS[chosen]}, đề nghị đơn vị xác nhận.")
    return out


def _recomputed(rule, n, counted, by_code, lines, indicators, checks):
    """A rate from its parts, over the units that give both: (total, units counted, method)."""
    den = by_code[rule.denominator]
    num = by_code.get(rule.numerator) if rule.numerator else None
    dens = dict(counted[den])
    if num is not None:
        nums = dict(counted[num])
        both = [k for k in nums if k in dens]
        total_den = sum(dens[k] for k in both)
        total = round(sum(nums[k] for k in both) / total_den * 100, 2) if total_den else None
        return total, len(both), "ratio"
    rates = dict(counted[n])
    both = [k for k in rates if k in dens]
    for k in rates:
        if k not in dens:
            checks.append(f"{lines[k].unit}: có {_label(indicators[n])} nhưng không có "
                          f"{_label(indicators[den])}; không tính vào tỷ lệ chung.")
    total_den = sum(dens[k] for k in both)
    total = round(sum(rates[k] * dens[k] for k in both) / total_den, 2) if total_den else None
    return total, len(both), "weighted"


def restated_totals(text: str, reader: StatedReader, totals: Mapping[str, IndicatorTotal]) -> dict[str, float]:
    """The indicators a consolidated sentence (units' sentences summed) states otherwise than
    their reconciled total: code -> the number it states. Such a sentence would print a second
    total ("tiếp nhận 19.108 hồ sơ" beside the figures' 19.494), so the draft leaves it out and
    the clerk reads why."""
    out = {}
    for code, value in reader.read([text]).items():
        total = totals.get(code)
        if total is not None and total.total is not None and abs(total.total - value) > 0.005:
            out[code] = value
    return out


class OneTotal:
    """One total per indicator in the body. A sentence summed over units that states an indicator
    otherwise than its reconciled total:
    - summed over exactly the units the total counts: its figure is restated as the total (the
      units' rates averaged become the rate weighted by its denominator, the same units);
    - summed over more than half of them otherwise: it reads as a second total and is left out;
    - over fewer: a breakdown ("47 mô hình trên lĩnh vực cải cách hành chính", 11 units), kept.
    Each case the clerk reads in figure_checks."""

    def __init__(self, campaign: Campaign, units: Sequence, reconciled: Reconciled) -> None:
        self.reader = StatedReader(campaign.indicators)
        self.totals = {t.code: t for t in reconciled.totals}
        self.counted = _counted(units, reconciled)
        self.checks: list[str] = []

    def keep(self, group):
        """A merged group (daemon.report.text.Group) as the draft prints it, restated, or None."""
        if not group.summed or not self.reader:
            return group
        text = group.text
        for code, value in restated_totals(group.text, self.reader, self.totals).items():
            t = self.totals[code]
            said = f"{code} = {number_text(value)}, khác số liệu tổng hợp {t.value_text} ({t.reported} đơn vị)"
            if set(group.units) == self.counted.get(code):
                old = re.compile(r"(?:bình quân )?" + re.escape(number_text(value)) + r"(?![\d,.]*\d)")
                text, n = old.subn(t.value_text, text, count=1)
                if n:
                    self.checks.append(f"Câu tổng hợp từ nội dung báo cáo của {len(group.units)} đơn vị nêu {said}: "
                                       f"dự thảo ghi số liệu tổng hợp {t.value_text}.")
                    continue
            if 2 * len(group.units) > t.reported:
                self.checks.append(f"Câu tổng hợp từ nội dung báo cáo của {len(group.units)} đơn vị nêu {said}: "
                                   f"không đưa câu này vào dự thảo («{group.text[:80]}…»).")
                return None
        return group if text == group.text else replace(group, text=text)


def _counted(units, reconciled: Reconciled) -> dict[str, set[int]]:
    """indicator code -> positions (in `units`, the merger's numbering) of the units its total counts."""
    pos = {u.id: k for k, u in enumerate(units)}
    codes = [i.code for i in reconciled.totals]
    lines = reconciled.lines
    out = {}
    for n, ind in enumerate(reconciled.totals):
        den = codes.index(ind.denominator) if ind.denominator in codes else None
        out[ind.code] = {pos[x.unit_id] for x in lines
                         if x.values[n] is not None and (den is None or x.values[den] is not None)}
    return out
