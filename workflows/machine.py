"""One transitions.Machine per workflow version, shared by every finding and request."""
from __future__ import annotations

from transitions import Machine

from workflows.model import Workflow


class _Chosen:
    """Condition that lets a transition fire only when the engine picked it.

    The engine checks roles, fields and guards itself so it can say which one failed;
    the machine then fires exactly that transition and moves the model's state.
    """

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __call__(self, event_data) -> bool:
        return event_data.kwargs.get("chosen") == self.index


def build_machine(workflow: Workflow) -> Machine:
    return Machine(
        model=None,
        states=list(workflow.states),
        initial=workflow.initial,
        transitions=[
            {"trigger": t.event, "source": list(t.sources), "dest": t.dest, "conditions": [_Chosen(t.index)]}
            for t in workflow.transitions
        ],
        auto_transitions=False,
        send_event=True,
        name=workflow.name,
    )
