"""The house's floors: no module of daemon/ imports a module of a floor above it, parsers/ never
imports daemon/, and the service never imports the demo (tonghop_demo/), which only the CLI's
`demo` command loads. Checked on the source with ast, so a new import that breaks the layering
fails here before anyone has to trace it.

Floors, bottom to top:
  0  records, texts, clock, durable, faults,   shared records and helpers (no daemon/ imports
     systemd, logs, skeleton, textfile           but each other)
  1  config                                    the typed, frozen configuration
  2  config_toml, store, status                reading the config folder; the ledger; status rules
  3  intake/, outgoing/, report/               the rooms: each imports only floors below and itself
  4  runner, checks                            the service loop; check-config
  5  desk                                      the clerk's actions (decide again through runner)
  6  web/                                      the web desk (Flask), over desk and the floors below
  7  cli                                       the command line
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FLOORS = {
    "daemon.records": 0, "daemon.texts": 0, "daemon.clock": 0, "daemon.durable": 0, "daemon.faults": 0,
    "daemon.systemd": 0, "daemon.logs": 0, "daemon.skeleton": 0, "daemon.textfile": 0,
    "daemon.config": 1,
    "daemon.config_toml": 2, "daemon.store": 2, "daemon.status": 2, "daemon.oauth2": 2,
    "daemon.intake": 3, "daemon.outgoing": 3, "daemon.report": 3,
    "daemon.runner": 4, "daemon.checks": 4,
    "daemon.desk": 5,
    "daemon.web": 6,
    "daemon.cli": 7, "daemon.__main__": 7,
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, int]]:
    """(module imported, line) for every import in the file, relative ones made absolute."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.append((base, node.lineno))
            # "from daemon import store" imports daemon.store (a name that is no module is harmless)
            if base.split(".")[0] in ("daemon", "tonghop_demo"):
                out += [(f"{base}.{a.name}", node.lineno) for a in node.names]
    return out


def room(module: str) -> str | None:
    """The floor's key of a daemon module: "daemon.intake" for daemon.intake.decide."""
    for key in sorted(FLOORS, key=len, reverse=True):
        if module == key or module.startswith(key + "."):
            return key
    return None


def test_every_daemon_module_has_a_floor():
    for path in sorted((ROOT / "daemon").rglob("*.py")):
        name = module_name(path)
        if name == "daemon":
            continue
        assert room(name) is not None, f"{name}: give it a floor in tests/test_layers.py"


def violations(root: Path = ROOT) -> list[str]:
    wrong = []
    for path in sorted((root / "daemon").rglob("*.py")):
        name = module_name(path, root)
        mine = room(name)
        if mine is None:
            continue
        where = path.relative_to(root)
        flagged: set[int] = set()  # one report per import statement
        for target, line in imports(path, root):
            if line in flagged:
                continue
            before = len(wrong)
            if target.startswith("tonghop_demo"):
                if mine != "daemon.cli":
                    wrong.append(f"{where}:{line} imports the demo ({target})")
                    flagged.add(line)
                continue
            theirs = room(target)
            if theirs is None or theirs == mine:
                continue
            if FLOORS[theirs] > FLOORS[mine]:
                wrong.append(f"{where}:{line} (floor {FLOORS[mine]}) imports {target} (floor {FLOORS[theirs]})")
            elif FLOORS[theirs] == FLOORS[mine] == 3:
                wrong.append(f"{where}:{line}: room {mine} imports room {theirs} ({target})")
            if len(wrong) > before:
                flagged.add(line)
    return wrong


def test_no_module_imports_a_floor_above_it_or_another_room():
    wrong = violations()
    assert not wrong, "\n".join(wrong)


def test_parsers_never_import_daemon_or_the_demo():
    wrong = [f"{p.relative_to(ROOT)}:{line} imports {t}" for p in sorted((ROOT / "parsers").rglob("*.py"))
             for t, line in imports(p) if t.split(".")[0] in ("daemon", "tonghop_demo")]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_violation(tmp_path):
    """The walk really finds imports, relative and absolute: a checker that found none would pass
    everything."""
    found = dict(imports(ROOT / "daemon" / "runner.py"))
    assert "daemon.store" in found and "daemon.intake.decide" in found
    for name, text in {"records.py": "from .store import Store\n",
                       "intake/decide.py": "from daemon.report import model\n",
                       "report/model.py": "import tonghop_demo.samples\n",
                       "cli.py": "from tonghop_demo import run\n"}.items():
        (tmp_path / "daemon" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "daemon" / name).write_text(text)
    wrong = violations(tmp_path)
    assert len(wrong) == 3, wrong
    assert any("records.py:1 (floor 0) imports daemon.store" in w for w in wrong)
    assert any("room daemon.intake imports room daemon.report" in w for w in wrong)
    assert any("model.py:1 imports the demo" in w for w in wrong)


def sql_outside_the_store(root: Path = ROOT) -> list[str]:
    """Places outside daemon/store.py that reach the ledger's database themselves: `x.db`, or a
    call of execute/executemany/query (sqlite3's and sqlite-utils' ways to run SQL)."""
    wrong = []
    for path in sorted([*(root / "daemon").rglob("*.py"), *(root / "tonghop_demo").rglob("*.py")]):
        if path == root / "daemon" / "store.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("db", "execute", "executemany", "query"):
                wrong.append(f"{path.relative_to(root)}:{node.lineno} .{node.attr}")
    return wrong


def test_every_sql_statement_is_a_store_method(tmp_path):
    wrong = sql_outside_the_store()
    assert not wrong, "\n".join(wrong)
    (tmp_path / "daemon").mkdir()
    (tmp_path / "daemon" / "bounces.py").write_text("def ours(store, mid):\n    return store.db.execute('select 1')\n")
    assert len(sql_outside_the_store(tmp_path)) == 2


def test_the_running_service_never_loads_the_demo():
    """The same, at run time: importing the service (runner, CLI, checks) loads no demo module."""
    import subprocess
    import sys

    code = ("import sys, daemon.cli, daemon.runner, daemon.checks; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'tonghop_demo'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
