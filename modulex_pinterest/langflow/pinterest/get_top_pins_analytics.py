"""Get Top Pins Analytics: the Langflow node of the Pinterest action ``get_top_pins_analytics``.

Generated from plugin.yaml and schemas/ by `python -m modulex_pinterest.langflow.generate`: do not edit.
"""

from lfx.io import DropdownInput, IntInput, MessageTextInput, MultiselectInput, Output, SecretStrInput, StrInput

from modulex_pinterest.langflow.component import PinterestComponent


class PinterestGetTopPinsAnalytics(PinterestComponent):
    display_name = "Get Top Pins Analytics"
    description = "The account's best pins over a period, ranked by a metric, with their metrics"
    icon = "Pin"
    name = "PinterestGetTopPinsAnalytics"
    action = "get_top_pins_analytics"
    inputs = [
        DropdownInput(
            name="sort_by",
            display_name="Sort By",
            info="The metric that ranks the pins: IMPRESSION, SAVE, PIN_CLICK, OUTBOUND_CLICK or ENGAGEMENT.",
            options=["ENGAGEMENT", "IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE"],
            value="IMPRESSION",
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
        IntInput(
            name="num_of_pins",
            display_name="Number of Pins",
            info="How many top pins to return, 1 to 50 (default 10).",
            value=10,
        ),
        MultiselectInput(
            name="metric_types",
            display_name="Metric Types",
            info="Metrics to report for each pin (default: all of them).",
            options=[
                "ENGAGEMENT",
                "ENGAGEMENT_RATE",
                "IMPRESSION",
                "OUTBOUND_CLICK",
                "OUTBOUND_CLICK_RATE",
                "PIN_CLICK",
                "PIN_CLICK_RATE",
                "SAVE",
                "SAVE_RATE",
            ],
            value=[],
        ),
        DropdownInput(
            name="created_in_last_n_days",
            display_name="Created In The Last N Days",
            info="Only pins created in the last 30 days (the only value Pinterest takes).",
            options=["30"],
            value="",
            advanced=True,
        ),
        DropdownInput(
            name="app_types",
            display_name="App Types",
            info="Apps or devices to count: ALL (default), MOBILE, TABLET or WEB.",
            options=["ALL", "MOBILE", "TABLET", "WEB"],
            value="",
            advanced=True,
        ),
        DropdownInput(
            name="content_type",
            display_name="Content Type",
            info="Paid or organic activity: ALL (default), PAID or ORGANIC.",
            options=["ALL", "PAID", "ORGANIC"],
            value="",
            advanced=True,
        ),
        DropdownInput(
            name="source",
            display_name="Source",
            info=(
                "ALL (default), YOUR_PINS (activity on Pins you created or saved) or OTHER_PINS (on Pins others "
                "created from your claimed accounts)."
            ),
            options=["ALL", "YOUR_PINS", "OTHER_PINS"],
            value="",
            advanced=True,
        ),
        DropdownInput(
            name="pin_format",
            display_name="Pin Format",
            info="Pin formats to count: ALL (default) or one format.",
            options=[
                "ALL",
                "ORGANIC_IMAGE",
                "ORGANIC_PRODUCT",
                "ORGANIC_VIDEO",
                "ADS_STANDARD",
                "ADS_PRODUCT",
                "ADS_VIDEO",
                "ADS_IDEA",
            ],
            value="",
            advanced=True,
        ),
        DropdownInput(
            name="from_claimed_content",
            display_name="From Claimed Content",
            info="Pins that match your claimed domain: BOTH (default), CLAIMED or OTHER.",
            options=["OTHER", "CLAIMED", "BOTH"],
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
    ]
