"""The shipped workflows.yaml, and the variant most tests run on (its recurrence rules quiet)."""
from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOWS_YAML = Path(__file__).resolve().parent.parent / "workflows.yaml"

# Most tests exercise the state machine and would trip the shipped recurrence rules by reporting the same
# category at the same place again and again; they get the shipped workflows with the rules linking and counting
# but firing no events. tests/integration/test_recurrence.py loads the rules as shipped and checks them.
_tree = yaml.safe_load(WORKFLOWS_YAML.read_text(encoding="utf-8"))
for _rules in (w.get("rules", {}) for w in _tree["workflows"].values()):
    _rules.pop("repeat_failed", None)
    for _rule in ("repeat_found", "not_fixed"):
        for _key in ("threshold", "event"):
            _rules.get(_rule, {}).pop(_key, None)
QUIET_WORKFLOWS = yaml.safe_dump(_tree, allow_unicode=True, sort_keys=False)
