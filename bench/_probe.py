"""Run the tonghop command line with timing probes: `python bench/_probe.py EVENTS_FILE CLI_ARGS...`.

The daemon's code path is unchanged: a few of its methods are wrapped so that each call writes
"NAME-begin T CPU" and "NAME-end T CPU DETAIL" lines (T = time.monotonic(), which is one clock for
every process on Linux, so the benchmark can set them against its own APPEND and SMTP times; CPU =
time.process_time() of the daemon, which load from other processes on a shared machine barely
changes). Each
line is one os.write to an O_APPEND file: nothing is buffered, nothing is lost if the process is
killed. Cost: a few microseconds per wrapped call.
"""
from __future__ import annotations

import atexit
import functools
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_fd: int | None = None


def emit(name: str, detail: str = "") -> None:
    if _fd is not None:
        os.write(_fd, f"{name} {time.monotonic():.6f} {time.process_time():.6f} {detail}\n".encode())


def children_cpu() -> str:
    """CPU seconds of the children reaped so far: the read-ahead reader counts once fetch_pass
    has closed it (daemon/intake/read_ahead.py)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return f"{usage.ru_utime + usage.ru_stime:.6f}"


def wrap(owner, attr: str, name: str, detail=None) -> None:
    original = getattr(owner, attr)

    @functools.wraps(original)
    def probed(*args, **kwargs):
        emit(f"{name}-begin")
        try:
            result = original(*args, **kwargs)
        finally:
            emit(f"{name}-end", detail(args) if detail else "")
        return result

    setattr(owner, attr, probed)


def install() -> None:
    from daemon import runner, store
    from daemon.intake import decide, mailbox
    from daemon.outgoing import smtp

    wrap(mailbox.ImapSource, "wait", "wait")
    wrap(mailbox.ImapSource, "pending", "pending")
    # the children's CPU before and after: the read-ahead reader's share of the pass
    wrap(runner.Runner, "fetch_pass", "fetch_pass", lambda a: children_cpu())
    wrap(runner.Runner, "recover", "recover", lambda a: children_cpu())
    # "handle": one message archived, claimed, decided (Runner.take); "move": the ledger's note
    # of the folders and the moves of a batch (Runner.move_all, once per batch since issue 17)
    wrap(runner.Runner, "take", "handle", lambda a: a[1].uid)
    wrap(runner.Runner, "finish", "finish", lambda a: str(a[1]))
    wrap(runner.Runner, "move_all", "move", lambda a: str(len(a[1])))
    # inside "finish": reading alone (parsers/, the same function bench/backlog.py times by
    # itself: decide_raw looks it up by name at each call), the answers composed, the decision
    # written; inside "handle" before it: the archive's write and the claim
    wrap(decide, "read", "read")
    # waiting for the read-ahead reader's answer (it reads while this process decides the last);
    # absent from trees before it, which the docs' before/after runs use with this probe
    try:
        from daemon.intake import read_ahead
    except ImportError:
        pass
    else:
        wrap(read_ahead.ReadAhead, "take", "ahead")
        # the reader's own peak memory, taken as it is closed (VmHWM of /proc/PID/status)
        wrap(read_ahead.ReadAhead, "close", "reader-close", lambda a: str(a[0].peak_rss_kb))
    wrap(runner.Runner, "render_answers", "answers")
    wrap(store.Store, "record", "record")
    wrap(store.Archive, "put", "archive")
    wrap(store.Store, "claim", "claim")
    wrap(runner.Runner, "run_jobs", "run_jobs")
    wrap(runner.Runner, "send_outbox", "send_outbox")
    wrap(smtp.Sender, "deliver", "deliver")


def peak_rss_kb() -> int:
    """This process's peak resident set size (VmHWM) since its exec. (getrusage's ru_maxrss is no
    use for a child: it keeps the high-water mark of the parent it was forked from.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    global _fd
    events, argv = sys.argv[1], sys.argv[2:]
    _fd = os.open(events, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    atexit.register(lambda: emit("peak-rss", str(peak_rss_kb())))
    emit("process-start")
    install()
    from daemon.cli import main as cli_main

    emit("imported")
    code = cli_main(argv)
    emit("process-end")
    return code


if __name__ == "__main__":
    sys.exit(main())
