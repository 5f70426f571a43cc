"""The demo's case file is plain YAML: no anchors and aliases, and it loads back identically."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import yaml

from opensirt.demo.case import dump_case_yaml

#: An anchor (``&id001``) or an alias (``*id001``) where a YAML value starts.
ANCHOR_OR_ALIAS = re.compile(r"(^|[\s:\-\[,])[&*][A-Za-z0-9_]+")


def test_shared_values_are_written_in_full_and_load_identically() -> None:
    when = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    labs = {"inr": 1.1}
    data: dict[str, Any] = {
        "schedule": {"treatment": when},
        "treatment": {"injection": when},
        "a": labs,
        "b": labs,
    }
    assert ANCHOR_OR_ALIAS.search(yaml.safe_dump(data))  # the default dumper aliases them
    text = dump_case_yaml(data, "# header\n")
    assert text.startswith("# header\n")
    assert not ANCHOR_OR_ALIAS.search(text), text
    assert text.count("2026-03-02 10:30:00+00:00") == 2
    assert yaml.safe_load(text) == data
