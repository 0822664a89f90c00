"""Dependencies point down: optimizer and scheduler import no Flask and no web code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scheduler_and_optimizer_import_no_flask():
    code = (
        "import sys, pkgutil, importlib, optimizer, scheduler, scheduler.models, scheduler.services\n"
        "for pkg in (optimizer, scheduler, scheduler.models, scheduler.services):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_sqlalchemy', 'flask_login', 'web'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_optimizer_imports_no_database():
    code = ("import sys, optimizer, optimizer.__main__\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'scheduler', 'web'))\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
