"""The resident LibreOffice (parsers/convert_pool.py, issue 17 part 3), with real LibreOffice: it
reads legacy files as the cold path does; a converter killed (kill -9) or stuck (SIGSTOP) costs
the file a cold retry, never its text, and the watchdog starts a new one; it reaches no network;
closing it leaves no process behind."""
from __future__ import annotations

import subprocess
import os
import signal
import time
from datetime import datetime, timedelta, timezone

import pytest

import legacy_samples as S
from hostile.linked import LinkServer, linked_files
from parsers import convert as convert_module
from parsers.convert import Converter, new_resident_pool, resident_converters, resident_pool, use_resident_pool
from parsers.document import read_document
from parsers.model import Attachment

COLD = Converter(pool=False)


def read(data: bytes, name: str, converter: Converter):
    return read_document(Attachment(filename=name, content_type="", data=data), converter=converter)


def alive(pids: list[int]) -> list[int]:
    """The pids that are still running (a killed process may linger as a zombie until reaped)."""
    left = []
    for pid in pids:
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            left.append(pid)
    return left


def of_this_process(pid: int) -> bool:
    """A converter of a pool in this pytest process (its keeper, the session leader, is our child)."""
    try:
        sid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[3])
        return int(open(f"/proc/{sid}/stat").read().rsplit(")", 1)[1].split()[1]) == os.getpid()
    except (OSError, ValueError, IndexError):
        return False


def soffice_bin(pool) -> int:
    pids = [p for p in pool.soffice_pids() if open(f"/proc/{p}/comm").read().strip() == "soffice.bin"]
    assert len(pids) == 1, pool.soffice_pids()
    return pids[0]


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    """A .doc and an .xls per sample, as offices' files come (LibreOffice writes them cold)."""
    made = {}
    for name in ("tcvn3", "mixed"):
        made[f"{name}.doc"] = COLD.convert(S.to_docx(S.SAMPLES[name]), ".docx", "doc")
        made[f"{name}.xls"] = COLD.convert(S.to_xlsx(S.SAMPLES[name]), ".xlsx", "xls")
    return made


@pytest.fixture(scope="module")
def pool():
    p = new_resident_pool(1, timeout=4)
    yield p
    pids = p.soffice_pids()
    p.close()
    assert alive(pids) == []


def test_resident_reads_as_cold(samples, pool):
    warm = Converter(pool=pool)
    for name, data in samples.items():
        if name.endswith(".xls"):
            # xlrd reads .xls itself; LibreOffice is its fallback: compare what LibreOffice gives.
            got = read(warm.to_xlsx(data, ".xls"), name + "x", COLD)
            want = read(COLD.to_xlsx(data, ".xls"), name + "x", COLD)
        else:
            got, want = read(data, name, warm), read(data, name, COLD)
        assert got.text and got.text == want.text and got.problems == want.problems, name
    assert warm.cold_runs == 0 and pool.failures == 0 and pool.starts == 1


def test_killed_converter_is_restarted_and_the_file_read_cold(samples, pool):
    warm = Converter(pool=pool)
    warm.to_docx(samples["tcvn3.doc"], ".doc")  # running
    starts, before = pool.starts, pool.soffice_pids()
    os.kill(soffice_bin(pool), signal.SIGKILL)
    doc = read(samples["tcvn3.doc"], "a.doc", warm)
    assert doc.text == read(samples["tcvn3.doc"], "a.doc", COLD).text and doc.problems == ()
    assert warm.cold_runs == 1 and pool.failures == 1
    assert pool.wait_ready(60) and pool.starts == starts + 1
    assert alive(before) == []  # the dead converter's keeper and launcher went with it
    assert read(samples["mixed.doc"], "b.doc", warm).text == read(samples["mixed.doc"], "b.doc", COLD).text
    assert warm.cold_runs == 1  # the new converter took the next file


def test_stuck_converter_hits_the_time_limit_and_the_file_goes_cold(samples, pool):
    warm = Converter(pool=pool)
    warm.to_docx(samples["mixed.doc"], ".doc")
    starts, failures = pool.starts, pool.failures
    stuck = soffice_bin(pool)
    os.kill(stuck, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        doc = read(samples["mixed.doc"], "c.doc", warm)
        waited = time.monotonic() - t0
    finally:
        try:
            os.kill(stuck, signal.SIGCONT)
        except ProcessLookupError:
            pass
    assert doc.text == read(samples["mixed.doc"], "c.doc", COLD).text and doc.problems == ()
    assert warm.cold_runs == 1 and pool.failures == failures + 1
    assert waited >= pool.timeout  # it waited out the limit, then went cold
    assert alive([stuck]) == []
    assert pool.wait_ready(60) and pool.starts == starts + 1
    warm.to_docx(samples["tcvn3.doc"], ".doc")
    assert warm.cold_runs == 1


def test_resident_converter_reaches_no_network(pool):
    server = LinkServer()
    try:
        files = linked_files(server.url)
        assert server.hits, "the files do not make LibreOffice fetch: the test would prove nothing"
        server.hits.clear()
        warm = Converter(pool=pool)
        for suffix in ("odt", "doc"):
            assert "ỦY BAN" in read(files[suffix], f"a.{suffix}", warm).text
        warm.to_pdf(files["docx"], ".docx")  # the draft path renders through it too
        assert warm.cold_runs == 0
        assert server.hits == []
    finally:
        server.httpd.shutdown()


def test_service_pool_starts_on_the_first_legacy_file_and_leaves_nothing(samples):
    # What `tonghop run` does (daemon/cli.py): inside the block the shared converters use the
    # pool from the first legacy file; when the block ends it is closed.
    with resident_converters(1):
        assert resident_pool().starts == 0  # nothing started before a legacy file comes
        converter = Converter()
        doc = read(samples["tcvn3.doc"], "a.doc", converter)
        assert doc.problems == () and "THÁP MƯỜI" in doc.text.upper()
        pool = resident_pool()
        assert pool.starts == 1 and converter.cold_runs == 0
        pids = pool.soffice_pids()
        assert len(pids) >= 2
    assert alive(pids) == [] and resident_pool() is None and convert_module._POOL is None
    assert use_resident_pool(0) == 0 and resident_pool() is None  # TONGHOP_CONVERTERS=0: cold only


def test_pool_that_cannot_start_leaves_the_cold_path(samples):
    broken = new_resident_pool(1, timeout=4, python="/nonexistent/python3")
    try:
        converter = Converter(pool=broken)
        doc = read(samples["mixed.doc"], "a.doc", converter)
        assert doc.problems == () and converter.cold_runs == 1 and broken.starts == 0
    finally:
        broken.close()


def test_tonghop_run_converts_a_doc_resident_and_leaves_no_soffice(tmp_path, imap_account):
    # The service end to end: `run --once` reads a unit's .doc report through the resident pool
    # (its start is logged) and, once it has exited, no converter of it is left running.
    import corpus
    from daemon.config_toml import load_config
    from service import EXAMPLE, Daemon, make_config
    from tonghop_demo import samples as demo

    unit = load_config(EXAMPLE).unit("xa-my-hoa")
    doc = COLD.convert(demo.report_docx(demo.sample_unit(unit), 2024, kind="BC"), ".docx", "doc")
    imap_account.append(corpus.submission(unit.emails[0], f"{unit.name} gửi báo cáo công tác dân vận",
                                          [("Bao cao dan van 2024.doc", doc)]),
                        datetime(2024, 10, 15, 8, 30, tzinfo=timezone(timedelta(hours=7))))
    daemon = Daemon(make_config(tmp_path, imap_account.url(), timeout_seconds="5"), imap_account.password)
    result = daemon.run("run", "--once")
    assert "LibreOffice thường trú" in result.stdout + result.stderr
    rows = daemon.messages()
    assert len(rows) == 1 and rows[0]["status"] == "recorded", rows
    left = subprocess.run(["pgrep", "-f", "tonghop-lo-resident"], capture_output=True, text=True).stdout.split()
    assert [pid for pid in alive([int(p) for p in left]) if not of_this_process(pid)] == []
