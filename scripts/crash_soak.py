#!/usr/bin/env python3
"""The long crash soak: many rounds of tests/crash_harness.py, each a fresh mailbox with a backlog
in a private Dovecot and a fresh ledger, the daemon killed with SIGKILL at random moments and at
random failpoints until everything is processed and sent, then compared with the truth.

Usage (as root, like `make test`: the test Dovecot needs it):
    .venv/bin/python scripts/crash_soak.py --rounds 50 [--messages 40] [--seed 1] [--max-kills 40]

Prints one line per round and the totals; exits 1 when any round's end state differs from the
truth (each difference is printed). Not a test: tests/test_crash.py runs one short round in CI.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import crash_harness as H  # noqa: E402
from servers import Dovecot, ImapAccount, SmtpSink  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=10, help="independent rounds (fresh mailbox and ledger each)")
    p.add_argument("--messages", type=int, default=40, help="messages in each round's backlog")
    p.add_argument("--seed", type=int, default=1, help="seed of the first round (round k uses seed + k)")
    p.add_argument("--max-kills", type=int, default=40, help="kills per round at most (then a clean pass)")
    p.add_argument("--json", help="also write the per-round figures to this file")
    args = p.parse_args()

    print(f"machine: {platform.node()} {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    dovecot, sink = Dovecot(), SmtpSink()
    dovecot.start()
    sink.start()
    reports, started = [], time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="tonghop-soak-") as tmp:
            for k in range(args.rounds):
                account = ImapAccount(dovecot, *dovecot.new_user())
                soak = H.Soak(account, sink, Path(tmp) / f"round-{k}", messages=args.messages, seed=args.seed + k)
                report = soak.run(max_kills=args.max_kills)
                reports.append(report)
                print(f"round {k + 1}/{args.rounds} (seed {args.seed + k}): {report.summary()}", flush=True)
                if report.problems:
                    print(H.describe(report), flush=True)
    finally:
        sink.stop()
        dovecot.close()

    kills = Counter()
    for r in reports:
        for c in r.crashes:
            kills["random moment" if c.how.startswith("after ") else c.how.split()[1].split(":")[0]] += 1
    copies = sum(n - 1 for r in reports for n in r.duplicates.values())
    failed = [i + 1 for i, r in enumerate(reports) if r.problems]
    print("\nTotals")
    print(f"  rounds: {len(reports)}, messages: {sum(r.messages for r in reports)}, "
          f"kills: {sum(len(r.crashes) for r in reports)} ({', '.join(f'{k}: {v}' for k, v in sorted(kills.items()))})")
    print(f"  outgoing mails: {sum(r.outgoing for r in reports)}, deliveries: {sum(r.deliveries for r in reports)}, "
          f"duplicate copies: {copies}, kills inside the delivery window: {sum(r.window_crashes for r in reports)}")
    print(f"  statuses: {dict(sum((r.statuses for r in reports), Counter()))}, "
          f"set aside after repeated kills: {sum(len(r.set_aside) for r in reports)}")
    print(f"  rounds whose end state differs from the truth: {failed or 'none'}")
    print(f"  time: {time.monotonic() - started:.0f} s")
    if args.json:
        Path(args.json).write_text("[" + ",\n".join(H.to_json(r) for r in reports) + "]\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
