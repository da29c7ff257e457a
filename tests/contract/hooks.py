"""Schemathesis hooks for `make contract`: keep the acting admin able to act.

The run authenticates as one admin (CONTRACT_ADMIN_ID). Left alone, a generated
`DELETE /users/{that id}`, a demotion or deactivation of it, or a new username
for it would end every later request's authentication, and the rest of the run
would test nothing but 401s. Such a request is sent to a user that does not
exist instead (a 404 the checks still judge); everything else goes as generated.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

ADMIN_ID = int(os.environ.get("CONTRACT_ADMIN_ID", "1"))
NO_SUCH_USER = 2**31 - 1


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
    if case.path == "/api/v1/users/{user_id}" and case.method in {"PATCH", "DELETE"}:
        if str(case.path_parameters.get("user_id")) == str(ADMIN_ID):
            case.path_parameters["user_id"] = NO_SUCH_USER
    elif case.path == "/api/v1/users/me" and case.method == "PATCH" and isinstance(case.body, dict):
        case.body.pop("username", None)  # the run logs in by username
