"""Did the office's own mail server verify the sender's domain? Read from Authentication-Results.

A report counts for a unit because it came "from" the unit's address, and anyone can write any
address in From. The mail server that received the message can check the claim (SPF, DKIM, DMARC)
and writes what it found in an Authentication-Results header (RFC 8601). This module reads those
headers and says whether the From domain was verified; daemon/intake.py decides what to do.

Pure: header text in, a verdict out. Never raises on what a message contains (it is hostile input):
broken headers simply verify nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

__all__ = ["AuthVerdict", "MethodResult", "AuthResults", "parse_authres", "verify_sender"]

REQUIRE_MODES = ("dmarc", "any")


@dataclass(frozen=True)
class AuthVerdict:
    passed: bool
    method: str | None  # "dmarc" | "dkim" | "spf" that passed, or None
    reason: str  # Vietnamese, one sentence: recorded as the message's reason when it fails


@dataclass(frozen=True)
class MethodResult:
    """One resinfo: "dkim=pass (comment) header.d=example.com header.s=sel"."""

    method: str  # lower case, version dropped: "dmarc", "dkim", "spf", "compauth", ...
    result: str  # lower case: "pass", "fail", "none", ... ("" when the header left it out)
    reason: str | None = None  # the reasonspec, e.g. Rspamd's reason="No valid SPF"
    properties: tuple[tuple[str, str], ...] = ()  # ("header.from", "example.com"), keys lower case

    def prop(self, key: str) -> str | None:
        for name, value in self.properties:
            if name == key:
                return value
        return None


@dataclass(frozen=True)
class AuthResults:
    """One Authentication-Results header, parsed."""

    authserv_id: str  # as written, lower case; "" when the header names no server (Microsoft 365)
    results: tuple[MethodResult, ...] = ()


# -- parsing (RFC 8601 section 2.2, leniently) --------------------------------------------------

# Methods that start a result of their own. Some writers forget the ";" between results
# ("dkim=pass header.i=@a.vn spf=pass smtp.mailfrom=a.vn"): a known method name after a result
# starts the next one, while other bare words ("action=none", "policy=reject") are ignored.
_METHODS = frozenset({
    "auth", "dkim", "dkim-adsp", "dkim-atps", "domainkeys", "sender-id", "spf", "iprev", "dmarc",
    "arc", "smime", "dnswl", "vbr", "rrvs", "compauth", "bimi",
})
# Real headers are a few hundred bytes (a few KB with many signatures); past these it is an attack
# on our time (parsing costs about 1 s per MB). Reading stops from the top down, and our server's
# headers are at the top.
MAX_VALUE_CHARS = 16 * 1024  # per header
MAX_TOTAL_CHARS = 256 * 1024  # all Authentication-Results headers of one message
_WORD = re.compile(r'[^\s()";=]+')
_COMMENT_STOP = re.compile(r"[()\\]")
_QUOTED_RUN = re.compile(r'[^"\\]+')


def _tokens(text: str) -> list[tuple[str, str]]:
    """Header text -> [(kind, text)]: kind "w" word, "q" quoted string, ";" and "=".
    Comments are dropped (they may hold ";" and "=", as in "(p=none; dis=none)"). Folding and line
    breaks are plain whitespace here. An unterminated comment or quote runs to the end. Linear."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace() or c == ")":  # a stray ")" is noise
            i += 1
        elif c in ";=":
            out.append((c, c))
            i += 1
        elif c == "(":
            depth, i = 1, i + 1
            while depth and i < n:
                stop = _COMMENT_STOP.search(text, i)
                if stop is None:
                    i = n
                    break
                i = stop.end()
                mark = stop.group()
                if mark == "\\":
                    i += 1  # quoted-pair: the next character is literal
                else:
                    depth += 1 if mark == "(" else -1
        elif c == '"':
            parts: list[str] = []
            i += 1
            while i < n:
                run = _QUOTED_RUN.match(text, i)
                if run:
                    parts.append(run.group())
                    i = run.end()
                    continue
                if text[i] == "\\":
                    parts.append(text[i + 1:i + 2])
                    i += 2
                else:  # closing quote
                    i += 1
                    break
            out.append(("q", "".join(parts)))
        else:
            word = _WORD.match(text, i)
            if word is None:  # cannot happen (c is none of _WORD's exclusions); never loop
                i += 1
                continue
            out.append(("w", word.group()))
            i = word.end()
    return out


def _split(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    segments: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token[0] == ";":
            segments.append([])
        else:
            segments[-1].append(token)
    return segments


def _resinfos(segment: list[tuple[str, str]]) -> list[MethodResult]:
    """The "key=value" pairs of one ";"-separated part -> results; what does not fit is skipped."""
    found: list[MethodResult] = []
    method: str | None = None
    result = ""
    reason: str | None = None
    props: list[tuple[str, str]] = []

    def close() -> None:
        if method:
            found.append(MethodResult(method, result, reason, tuple(props)))

    i, n = 0, len(segment)
    while i < n:
        kind, key = segment[i]
        if kind != "w" or i + 1 >= n or segment[i + 1][0] != "=":
            i += 1  # a lone word ("contoso.com;" in Microsoft's headers), a stray "=" or quote
            continue
        value = ""
        i += 2
        if i < n and segment[i][0] in "wq":
            value = segment[i][1]
            i += 1
        key = key.lower()
        name = key.split("/", 1)[0].strip()  # "dkim/1" is method dkim, version 1
        if method is None and "." in key:
            continue  # a property with no method before it: nothing to attach it to
        if method is None or (name in _METHODS and "." not in key):
            close()
            method, result, reason, props = name, value.lower(), None, []
        elif key == "reason":
            reason = value
        elif "." in key:  # ptype.property: header.from, header.d, header.i, smtp.mailfrom, ...
            props.append((key, value))
        # other bare words ("action=none") carry nothing we use
    close()
    return found


def parse_authres(value: object) -> AuthResults:
    """One Authentication-Results value -> its authserv-id and results. Never raises: anything
    unreadable gives fewer results, never an exception."""
    if not isinstance(value, str):
        return AuthResults("")
    segments = _split(_tokens(value[:MAX_VALUE_CHARS]))
    first = segments[0]
    authserv_id = ""
    # RFC 8601 puts the authserv-id first; Microsoft 365 leaves it out and starts with "spf=...".
    if first and first[0][0] in "wq" and not (len(first) > 1 and first[1][0] == "="):
        authserv_id = first[0][1].strip().lower().rstrip(".")
        first = first[1:]
        if first and first[0][0] == "w" and first[0][1].isdigit():
            first = first[1:]  # authres-version, "mx.example.com 1;"
    results: list[MethodResult] = []
    segments[0] = first
    for segment in segments:
        if segment:
            results.extend(_resinfos(segment))
    return AuthResults(authserv_id, tuple(results))


# -- domains -------------------------------------------------------------------------------------

# Without the public suffix list, "one domain is a subdomain of the other" stands in for DMARC's
# relaxed alignment (same organisational domain). The parent must not be a public suffix, or a
# signature by "gov.vn" would align with every ministry; these generic second-level labels cover
# .vn (and the usual "co.uk" shapes). Sibling subdomains never align here: stricter than DMARC.
_GENERIC_SECOND_LEVEL = frozenset({
    "ac", "biz", "co", "com", "edu", "gov", "health", "info", "int", "name", "net", "org", "pro",
})


def _domain(value: object) -> str | None:
    """"user@Example.COM." / "@example.com" / "<a@b.vn>" / "example.com" -> "example.com";
    IDN to its ASCII form so a Unicode From and a punycode header.from compare equal."""
    if not isinstance(value, str):
        return None
    text = value.strip().strip("<>").strip()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = text.split(":", 1)[0]  # Rspamd may write header.d=example.com:s=selector
    text = text.strip().strip("<>").rstrip(".").lower()
    if not text or any(c.isspace() for c in text):
        return None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii").lower()
        except (UnicodeError, ValueError):
            pass
    return text or None


def _is_public_suffix_like(domain: str) -> bool:
    labels = domain.split(".")
    return len(labels) < 2 or (len(labels) == 2 and labels[0] in _GENERIC_SECOND_LEVEL)


def _aligned(auth_domain: str | None, from_domain: str) -> bool:
    """Relaxed alignment, approximated: equal, or one a subdomain of the other whose parent is
    not a public suffix ("xa.thapmuoi.gov.vn" and "thapmuoi.gov.vn" align; "gov.vn" does not)."""
    if not auth_domain:
        return False
    if auth_domain == from_domain:
        return True
    child, parent = (auth_domain, from_domain) if len(auth_domain) > len(from_domain) else (
        from_domain, auth_domain)
    return child.endswith("." + parent) and not _is_public_suffix_like(parent)


def _dkim_domain(result: MethodResult) -> str | None:
    """The signing domain: header.d, else the domain of header.i (Gmail writes only header.i)."""
    return _domain(result.prop("header.d")) or _domain(result.prop("header.i"))


# -- trust ---------------------------------------------------------------------------------------


def _trusted(authserv_id: str, trusted_ids: frozenset[str]) -> bool:
    """Is this header written by the office's own mail server? Exact name (case-insensitive), or
    that name with a job id after "/" ("mx.example.org/4F2A1B", OpenDKIM and OpenDMARC with
    AuthservIDWithJobID). "" in the configured list trusts headers that name no server, as
    Microsoft 365 writes them."""
    if authserv_id in trusted_ids:
        return True
    base = authserv_id.split("/", 1)[0]
    return bool(base) and base != authserv_id and base in trusted_ids


def _topmost(headers: list[AuthResults], method: str) -> tuple[MethodResult, ...]:
    """The results for one method from the topmost trusted header that reports that method.

    Why per method: Postfix with OpenDKIM and OpenDMARC writes one header per milter (dmarc, spf,
    dkim; seen in real mail with the dkim one on top), so a single header rarely holds everything.
    Why topmost: a server adds its header above what the message already carried, so a header
    with our own name further down may have been written by the sender; the server is also meant
    to delete those (RFC 8601 section 5, see docs/spoofing.md), and reading the top keeps us safe
    for every method our server reports on each message even where it does not."""
    for header in headers:
        found = tuple(r for r in header.results if r.method == method)
        if found:
            return found
    return ()


# -- verdict -------------------------------------------------------------------------------------

NO_HEADER = ("Thư không có kết quả xác thực của máy chủ thư văn phòng (Authentication-Results); "
             "không thể xác nhận người gửi.")
NO_FROM = "Không đọc được tên miền trong địa chỉ người gửi (From); không thể xác nhận người gửi."


def _describe(label: str, results: tuple[MethodResult, ...]) -> str:
    if not results:
        return f"{label}: không có kết quả"
    return f"{label}: " + ", ".join(dict.fromkeys(r.result or "?" for r in results))


def verify_sender(headers: Sequence[tuple[str, str]], from_addr: str | None, *,
                  authserv_ids: Sequence[str], require: str = "dmarc") -> AuthVerdict:
    """Did the office's mail server verify the domain of from_addr?

    headers: the message's top-level headers in order (ParsedMessage.headers), topmost first.
    authserv_ids: names the office's own mail server writes in its Authentication-Results.
    require: "dmarc" (dmarc=pass for exactly the From domain) or "any" (that, or dkim=pass or
    spf=pass for an aligned domain, unless the server's DMARC check said fail).
    Raises ValueError only for an unknown require (a configuration error, never message content).
    """
    if require not in REQUIRE_MODES:
        raise ValueError(f"require must be one of {REQUIRE_MODES}, not {require!r}")
    if isinstance(authserv_ids, str):
        authserv_ids = [authserv_ids]
    trusted_ids = frozenset(
        i.strip().lower().rstrip(".") for i in (authserv_ids or ()) if isinstance(i, str))

    # Anyone can write an Authentication-Results header into a message before it reaches us, so
    # only the ones naming our own server count; the rest (other servers on the way, or forgeries)
    # are ignored whatever they say.
    trusted: list[AuthResults] = []
    budget = MAX_TOTAL_CHARS
    for item in headers or ():
        try:
            name, value = item
        except (TypeError, ValueError):
            continue
        if not isinstance(name, str) or name.strip().lower() != "authentication-results":
            continue
        if not isinstance(value, str) or budget <= 0:
            continue
        budget -= min(len(value), MAX_VALUE_CHARS)
        parsed = parse_authres(value)
        if _trusted(parsed.authserv_id, trusted_ids):
            trusted.append(parsed)
    if not trusted:
        return AuthVerdict(False, None, NO_HEADER)

    from_domain = _domain(from_addr) if isinstance(from_addr, str) and "@" in from_addr else None
    if from_domain is None:
        return AuthVerdict(False, None, NO_FROM)

    dmarc = _topmost(trusted, "dmarc")
    for result in dmarc:
        if result.result == "pass" and _domain(result.prop("header.from")) == from_domain:
            return AuthVerdict(True, "dmarc", f"Máy chủ thư đã xác thực tên miền {from_domain} "
                               "của người gửi (DMARC: pass).")
    if require == "dmarc":
        if dmarc and all(r.result == "pass" for r in dmarc):
            # A pass for another domain: the server checked a different From (a message with two
            # From headers is a known trick) or did not say which domain it checked.
            other = _domain(dmarc[0].prop("header.from"))
            if other is None:
                return AuthVerdict(False, None, (
                    "Kết quả DMARC của máy chủ thư không ghi tên miền đã kiểm tra (header.from); "
                    f"không thể xác nhận người gửi thuộc tên miền {from_domain}."))
            return AuthVerdict(False, None, (
                f"Kết quả DMARC của máy chủ thư là cho tên miền {other}, không phải tên miền "
                f"{from_domain} của người gửi; có thể là thư giả mạo."))
        if not dmarc:
            return AuthVerdict(False, None, (
                "Máy chủ thư văn phòng không ghi kết quả kiểm tra DMARC cho thư này; không thể "
                f"xác nhận người gửi thuộc tên miền {from_domain}."))
        return AuthVerdict(False, None, (
            f"Máy chủ thư không xác thực được tên miền {from_domain} của người gửi "
            f"({_describe('DMARC', dmarc)}); có thể là thư giả mạo."))

    # "any": DKIM or SPF aligned with the From domain stands in for DMARC where the domain
    # publishes no DMARC policy. An explicit DMARC fail is the domain owner's own verdict (for
    # instance strict alignment) and is not overridden.
    if any(r.result == "fail" for r in dmarc):
        return AuthVerdict(False, None, (
            f"Máy chủ thư không xác thực được tên miền {from_domain} của người gửi "
            f"({_describe('DMARC', dmarc)}); có thể là thư giả mạo."))
    dkim = _topmost(trusted, "dkim")
    for result in dkim:
        if result.result == "pass" and _aligned(_dkim_domain(result), from_domain):
            return AuthVerdict(True, "dkim", f"Máy chủ thư đã xác thực chữ ký DKIM của tên miền "
                               f"{_dkim_domain(result)}, khớp với người gửi.")
    spf = _topmost(trusted, "spf")
    for result in spf:
        if result.result == "pass" and _aligned(_domain(result.prop("smtp.mailfrom")), from_domain):
            return AuthVerdict(True, "spf", f"Máy chủ thư đã xác thực SPF của tên miền "
                               f"{_domain(result.prop('smtp.mailfrom'))}, khớp với người gửi.")
    details = [_describe("DMARC", dmarc), _describe("DKIM", dkim), _describe("SPF", spf)]
    unaligned = sorted({d for d in (
        [_dkim_domain(r) for r in dkim if r.result == "pass"]
        + [_domain(r.prop("smtp.mailfrom")) for r in spf if r.result == "pass"]) if d})
    if unaligned:
        details.append("đạt cho tên miền khác: " + ", ".join(unaligned))
    return AuthVerdict(False, None, (
        f"Máy chủ thư không xác thực được tên miền {from_domain} của người gửi "
        f"({'; '.join(details)}); có thể là thư giả mạo."))
