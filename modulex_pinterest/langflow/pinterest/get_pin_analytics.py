"""Get Pin Analytics: the Langflow node of the Pinterest action ``get_pin_analytics``.

Generated from plugin.yaml and schemas/ by `python -m modulex_pinterest.langflow.generate`: do not edit.
"""

from lfx.io import DropdownInput, MessageTextInput, MultiselectInput, Output, SecretStrInput, StrInput

from modulex_pinterest.langflow.component import PinterestComponent


class PinterestGetPinAnalytics(PinterestComponent):
    display_name = "Get Pin Analytics"
    description = "Daily and total analytics of one pin over a period"
    icon = "Pin"
    name = "PinterestGetPinAnalytics"
    action = "get_pin_analytics"
    inputs = [
        DropdownInput(
            name="pin_id",
            display_name="Pin ID",
            info=(
                "The ID of the pin, a digit string, e.g. the `id` of a pin from List Pins. Pick one (the plugin "
                "lists them), type a value, or wire one in."
            ),
            options=[],
            value="",
            combobox=True,
            real_time_refresh=True,
            input_types=["Message"],
            required=True,
        ),
        DropdownInput(
            name="date_range",
            display_name="Date Range",
            info=(
                "A preset period ending today (UTC): the last 7, 14, 30, 60 or 90 days. Leave it out and give "
                "start_date (and end_date) instead; with neither, the last 30 days."
            ),
            options=["last_7_days", "last_14_days", "last_30_days", "last_60_days", "last_90_days"],
            value="",
        ),
        MessageTextInput(
            name="start_date",
            display_name="Start Date",
            info=(
                "First day of the report, YYYY-MM-DD (UTC). At most 90 days before today (Pinterest's limit). Not"
                " together with date_range."
            ),
            value="",
        ),
        MessageTextInput(
            name="end_date",
            display_name="End Date",
            info=(
                "Last day of the report, YYYY-MM-DD (UTC); today when left out. Not before start_date, and at "
                "most 90 days after it (Pinterest's limit)."
            ),
            value="",
        ),
        MultiselectInput(
            name="metric_types",
            display_name="Metric Types",
            info=(
                "Metrics to report (default IMPRESSION, SAVE, PIN_CLICK, OUTBOUND_CLICK); video pins also have "
                "VIDEO_* metrics."
            ),
            options=[
                "IMPRESSION",
                "OUTBOUND_CLICK",
                "PIN_CLICK",
                "SAVE",
                "SAVE_RATE",
                "TOTAL_COMMENTS",
                "TOTAL_REACTIONS",
                "USER_FOLLOW",
                "PROFILE_VISIT",
                "VIDEO_MRC_VIEW",
                "VIDEO_10S_VIEW",
                "QUARTILE_95_PERCENT_VIEW",
                "VIDEO_V50_WATCH_TIME",
                "VIDEO_START",
                "VIDEO_AVG_WATCH_TIME",
            ],
            value=["IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK"],
        ),
        DropdownInput(
            name="app_types",
            display_name="App Types",
            info="Apps or devices to count: ALL (default), MOBILE, TABLET or WEB.",
            options=["ALL", "MOBILE", "TABLET", "WEB"],
            value="",
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
            real_time_refresh=True,
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
            real_time_refresh=True,
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
            real_time_refresh=True,
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
    ]
