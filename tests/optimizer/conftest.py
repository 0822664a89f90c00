import json
from pathlib import Path

import pytest

PROBLEMS = Path(__file__).resolve().parents[3] / "shared" / "problems"


@pytest.fixture
def shared():
    """The example problems of ../shared/problems, as decoded JSON."""
    if not PROBLEMS.exists():
        pytest.skip(f"the shared example problems are not at {PROBLEMS}")
    return lambda name: json.loads((PROBLEMS / name).read_text())


@pytest.fixture
def repo_root():
    return Path(__file__).resolve().parents[2]
