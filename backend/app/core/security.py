"""Bearer-token authentication for every write."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# auto_error=False: we write our own 401s, which say what is wrong and how to fix it.
_bearer = HTTPBearer(auto_error=False, description="The API token from the API_TOKEN setting")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers=_CHALLENGE)


async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Let the request through only with `Authorization: Bearer <API_TOKEN>`."""
    if credentials is None:
        if "authorization" in request.headers:
            raise _unauthorized("the Authorization header must be 'Bearer <token>'")
        raise _unauthorized("this endpoint writes data: send 'Authorization: Bearer <token>'")
    expected = request.app.state.settings.api_token.get_secret_value()
    # compare_digest takes time independent of where the strings differ; bytes accept any text.
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise _unauthorized("the bearer token is not valid")


WriteAccess = Depends(require_token)
