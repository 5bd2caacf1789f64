"""Pinterest-style error answers, raised anywhere in the sandbox and sent by the server.

Pinterest answers errors with a JSON body ``{"code": int, "message": str}``
(``components/schemas/Error``). The ``code`` is Pinterest's own number, not the
HTTP status: 1 invalid parameters, 2 authentication failed, 3 missing scope,
8 rate limited, 40 board not found, 50 pin not found, 2031 section not found. The spec's
per-operation examples sometimes use the HTTP status as the code instead; the
sandbox uses Pinterest's numbers because that is what the shared error table
in the spec (and the real API) uses.
"""

from __future__ import annotations

# Messages copied from the examples in Pinterest's OpenAPI description.
AUTH_FAILED = "Authentication failed."
MISSING_SCOPE = (
    "Your token does not have sufficient permissions to perform this operation. "
    "Please ensure your token is authorized with the correct set of scopes."
)
RATE_LIMITED = (
    "This request exceeded a rate limit. This can happen if the client exceeds one\n"
    "of the published rate limits within a short time window."
)
BOARD_NOT_FOUND = "Board not found."
SECTION_NOT_FOUND = "Sorry! We couldn't find this board section."
PIN_NOT_FOUND = "Pin not found."

CODE_INVALID = 1
CODE_AUTH = 2
CODE_SCOPE = 3
CODE_RATE_LIMIT = 8
CODE_BOARD_NOT_FOUND = 40
CODE_PIN_NOT_FOUND = 50
CODE_SECTION_NOT_FOUND = 2031


class ApiError(Exception):
    """An error answer: HTTP status plus the JSON body Pinterest would send.

    ``extra`` adds fields to the body (the token endpoint adds RFC 6749's
    ``error``), ``headers`` adds response headers (``Allow`` on a 405).
    """

    def __init__(
        self, status: int, code: int, message: str, *, extra: dict | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, **self.extra}


def bad_request(message: str) -> ApiError:
    return ApiError(400, CODE_INVALID, message)


def board_not_found() -> ApiError:
    return ApiError(404, CODE_BOARD_NOT_FOUND, BOARD_NOT_FOUND)


def section_not_found() -> ApiError:
    return ApiError(404, CODE_SECTION_NOT_FOUND, SECTION_NOT_FOUND)


def pin_not_found() -> ApiError:
    return ApiError(404, CODE_PIN_NOT_FOUND, PIN_NOT_FOUND)
