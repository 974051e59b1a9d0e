"""The workflow definition language: load, validate, lint and compile YAML workflows (no database)."""
from workflows.errors import DefinitionError, Problem
from workflows.loader import load_file, load_text
from workflows.model import Definition, Field, Role, State, Transition, Workflow

__all__ = [
    "DefinitionError", "Problem", "load_file", "load_text",
    "Definition", "Field", "Role", "State", "Transition", "Workflow",
]
