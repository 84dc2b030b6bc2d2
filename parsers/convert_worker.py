"""The resident LibreOffice's keeper: run by the system Python (/usr/bin/python3, which has the
`uno` module from Debian's python3-uno), never imported by tonghop itself.

parsers/convert_pool.py starts it as `unshare -rn /usr/bin/python3 convert_worker.py ...` in a
process group of its own. It starts one soffice with a private profile, listening on a UNO pipe
(a Unix socket named at random: no TCP port, and the loopback of this network namespace stays
down), connects to it, and then converts one file per request. Requests and answers are one JSON
object a line on stdin/stdout, so tonghop talks to it without importing uno and no other process
can reach it.

Why the keeper lives inside the namespace with soffice: a client outside could not reach a
socket soffice opens on the namespace's loopback, and the pipe's file name carries the user id,
which `unshare -r` maps to 0 inside.

It exits (and takes soffice with it: it kills its whole process group) when stdin closes, when
its parent goes away, or when soffice has died; tonghop's watchdog then starts a new one.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time


def answer(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def die(code: int) -> None:
    """Kill soffice and every helper it forked (they are all in this process group), then us."""
    try:
        os.killpg(0, signal.SIGKILL)
    finally:
        os._exit(code)


def watch(parent: int, office: subprocess.Popen) -> None:
    # tonghop killed with -9 closes our stdin too, but a conversion may be stuck in soffice and
    # never read it; the parent id changing is the sign that nobody waits for us any more. And a
    # soffice that died while idle (killed, out of memory) must end us, so tonghop's watchdog
    # sees a dead converter and starts a new one before the next file.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent or office.poll() is not None and office.returncode != 81:
            die(0)


def main() -> None:
    profile, pipe, soffice = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        import uno
        from com.sun.star.beans import PropertyValue
        from com.sun.star.connection import NoConnectException
    except ImportError as exc:
        answer({"ready": False, "error": f"uno: {exc}"})
        sys.exit(2)

    def props(**values) -> tuple:
        return tuple(PropertyValue(Name=k, Value=v) for k, v in values.items())

    accept = f"pipe,name={pipe};urp;StarOffice.ComponentContext"
    office = subprocess.Popen(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible", "--norestore",
         "--nolockcheck", "--nodefault", "--nologo", f"--accept={accept}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, HOME=profile),
    )
    threading.Thread(target=watch, args=(os.getppid(), office), daemon=True).start()
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + float(sys.argv[4] if len(sys.argv) > 4 else 60)
    while True:
        try:
            ctx = resolver.resolve(f"uno:{accept}")
            break
        except NoConnectException:
            if office.poll() is not None and office.returncode != 81 or time.monotonic() > deadline:
                answer({"ready": False, "error": f"soffice exited {office.returncode}"})
                die(3)
            time.sleep(0.05)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    answer({"ready": True, "pid": os.getpid()})

    def alive() -> bool:
        try:
            desktop.getCurrentComponent()
            return True
        except Exception:
            return False

    for line in sys.stdin:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        op = req.get("op")
        if op == "quit":
            break
        if op == "ping":
            answer({"id": req.get("id"), "ok": alive()})
            continue
        doc = None
        try:
            load = dict(Hidden=True, ReadOnly=True, MacroExecutionMode=0, UpdateDocMode=0)
            if req.get("infilter"):
                load["FilterName"] = req["infilter"]
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(req["src"]), "_blank", 0, props(**load))
            if doc is None:
                raise RuntimeError("load returned nothing")
            filt = req.get("filter")
            if not filt:  # PDF: the export filter of the document's own application
                if doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
                    filt = "calc_pdf_Export"
                elif doc.supportsService("com.sun.star.presentation.PresentationDocument"):
                    filt = "impress_pdf_Export"
                elif doc.supportsService("com.sun.star.drawing.DrawingDocument"):
                    filt = "draw_pdf_Export"
                else:
                    filt = "writer_pdf_Export"
            doc.storeToURL(uno.systemPathToFileUrl(req["dst"]), props(FilterName=filt, Overwrite=True))
            answer({"id": req.get("id"), "ok": True})
        except Exception as exc:  # a file LibreOffice refuses, or soffice gone
            # soffice gone: end without an answer, so tonghop sees this converter dead at once
            # (an answer first left it looking alive until the group kill had gone through).
            if not alive():
                die(4)
            answer({"id": req.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]})
        finally:
            if doc is not None:
                try:
                    doc.close(True)
                except Exception:
                    pass
    try:  # let soffice end cleanly (its launcher reaps it) before the group kill
        desktop.terminate()
        office.wait(timeout=3)
    except Exception:
        pass
    die(0)


if __name__ == "__main__":
    main()
