"""List Boards: the Langflow node of the Pinterest action ``list_boards``.

Generated from plugin.yaml and schemas/ by `python -m modulex_pinterest.langflow.generate`: do not edit.
"""

from lfx.io import BoolInput, IntInput, MessageTextInput, Output, SecretStrInput, StrInput

from modulex_pinterest.langflow.component import PinterestComponent


class PinterestListBoards(PinterestComponent):
    display_name = "List Boards"
    description = "List all Pinterest boards for the authenticated user"
    icon = "Pin"
    name = "PinterestListBoards"
    action = "list_boards"
    inputs = [
        IntInput(
            name="page_size",
            display_name="Page Size",
            info="Number of boards per page (max 250). Values outside 1..250 are clamped to that range.",
            value=25,
            advanced=True,
        ),
        MessageTextInput(
            name="bookmark",
            display_name="Bookmark",
            info=(
                "Cursor for pagination to get the next page. Pass the `bookmark` returned by the previous call; "
                "leave empty for the first page."
            ),
            value="",
            advanced=True,
        ),
        BoolInput(
            name="fetch_all",
            display_name="Fetch All",
            info=(
                "Follow bookmarks and return all boards (up to Max Items) instead of one page. The returned "
                "bookmark is where it stopped, or null when the list was exhausted."
            ),
            value=False,
        ),
        IntInput(
            name="max_items",
            display_name="Max Items",
            info="With Fetch All: stop after this many boards. Ignored without Fetch All.",
            value=1000,
            advanced=True,
        ),
        SecretStrInput(
            name="access_token",
            display_name="Access Token",
            info=(
                "A Pinterest OAuth access token: the name of a Langflow global variable (e.g. "
                "PINTEREST_ACCESS_TOKEN, made from the environment with "
                "LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT=PINTEREST_ACCESS_TOKEN). Leave it empty to use a "
                "Credential Store."
            ),
            value="PINTEREST_ACCESS_TOKEN",
            load_from_db=True,
        ),
        SecretStrInput(
            name="credential_store",
            display_name="Credential Store",
            info=(
                "OAuth 2.0 instead of a token: a credentials file or redis://HOST:PORT/DB?key=KEY written by "
                "`modulex-pinterest auth login`; refreshed tokens are stored there, shared by every worker. A URL"
                " with a password is best kept in a Langflow global variable."
            ),
            value="",
            load_from_db=False,
            advanced=True,
        ),
        StrInput(
            name="base_url",
            display_name="Base URL",
            info=(
                "The API's base URL, e.g. the sandbox's; https unless its host is loopback. Another base URL than"
                " Pinterest's moves the OAuth token endpoint with it (URL/oauth/token). Empty: "
                "$PINTEREST_BASE_URL when set, else https://api.pinterest.com/v5."
            ),
            advanced=True,
            value="",
        ),
        StrInput(
            name="timeout",
            display_name="Timeout",
            info=(
                "Read timeout of each request (connecting takes at most the default's 5 s), or [connect, read] "
                "(seconds). Empty: [5, 30]."
            ),
            advanced=True,
            value="",
        ),
        StrInput(
            name="deadline",
            display_name="Deadline",
            info=(
                "Seconds an action may take in all: retries, waits for the rate budget and a token refresh "
                "included (seconds). Empty: 120."
            ),
            advanced=True,
            value="",
        ),
        StrInput(
            name="max_retries",
            display_name="Max Retries",
            info=(
                "Retries of a request on connection errors, timeouts, 429 and 5xx; of a create or a token request"
                " only when it certainly did not arrive, never after it may have. Empty: 3."
            ),
            advanced=True,
            value="",
        ),
        StrInput(
            name="rate_limit",
            display_name="Rate Limit",
            info=(
                "Requests per second per grant, shared by every process using the same credentials (requests per "
                "second). Empty: 100."
            ),
            advanced=True,
            value="",
        ),
    ]
    outputs = [
        Output(
            display_name="Output",
            name="output",
            method="action_data",
        ),
        Output(
            display_name="Boards",
            name="rows",
            method="action_items",
        ),
    ]
