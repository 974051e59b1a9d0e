"""One transitions.Machine per workflow version, shared by every finding; the engine picks the transition."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from transitions.core import MachineError

from engine.registry import WorkflowRegistry
from workflows import load_file

ROOT = Path(__file__).resolve().parents[2]
YAML_TEXT = (ROOT / "workflows.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workflow():
    return load_file(ROOT / "workflows.yaml").workflows["finding"]


class FakeSession:
    """Answers the registry's one query (the stored YAML text) and counts how often it was asked."""

    def __init__(self):
        self.queries = 0

    def scalar(self, _query):
        self.queries += 1
        return YAML_TEXT


def index_of(workflow, event, dest):
    return next(t.index for t in workflow.transitions if t.event == event and t.dest == dest)


def test_two_findings_share_one_machine_from_the_registry():
    registry, session = WorkflowRegistry(), FakeSession()
    first = registry.get(session, "finding", 1)
    second = registry.get(session, "finding", 1)
    assert first is second and first.machine is second.machine
    assert session.queries == 1  # compiled once, then served from memory


def test_machine_keeps_no_models_after_many_triggers(workflow):
    machine = workflow.machine
    findings = [SimpleNamespace(state="reported") for _ in range(50)]
    for f in findings:
        assert machine.events["assign"].trigger(f, chosen=index_of(workflow, "assign", "assigned"))
        assert machine.events["escalate"].trigger(f, chosen=index_of(workflow, "escalate", "escalated"))
    assert {f.state for f in findings} == {"escalated"}
    assert machine.models == []
    assert not hasattr(findings[0], "trigger")  # the machine did not decorate the finding


def test_no_automatic_to_state_events(workflow):
    events = set(workflow.machine.events)
    assert not any(e.startswith("to_") for e in events)
    assert events == {t.event for t in workflow.transitions}


def test_only_the_chosen_transition_fires(workflow):
    machine, f = workflow.machine, SimpleNamespace(state="verifying")
    passed, failed = index_of(workflow, "verify", "closed"), index_of(workflow, "verify", "rectifying")
    assert not machine.events["verify"].trigger(f, chosen=None)
    assert f.state == "verifying"
    assert machine.events["verify"].trigger(f, chosen=failed)
    assert f.state == "rectifying"
    f.state = "verifying"
    assert machine.events["verify"].trigger(f, chosen=passed)
    assert f.state == "closed"


def test_event_not_leaving_the_state_is_refused(workflow):
    f = SimpleNamespace(state="closed")
    with pytest.raises(MachineError):
        workflow.machine.events["assign"].trigger(f, chosen=index_of(workflow, "assign", "assigned"))
    assert f.state == "closed"
