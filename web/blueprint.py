"""The Blueprint every API module uses: flask-smorest's, with a request parser that survives hostile JSON."""
from __future__ import annotations

import flask_smorest
from flask_smorest import abort
from webargs.flaskparser import FlaskParser


class Parser(FlaskParser):
    """webargs' Flask parser; JSON nested past the decoder's recursion limit is a 400, not a crash."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            abort(400, message="the JSON body is nested too deeply")


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()
