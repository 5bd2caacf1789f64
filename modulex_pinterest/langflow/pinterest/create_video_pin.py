"""Create Video Pin: the Langflow node of the Pinterest action ``create_video_pin``.

Generated from plugin.yaml and schemas/ by `python -m modulex_pinterest.langflow.generate`: do not edit.
"""

from lfx.io import BoolInput, DropdownInput, MessageTextInput, MultilineInput, Output, SecretStrInput, StrInput

from modulex_pinterest.langflow.component import PinterestComponent


class PinterestCreateVideoPin(PinterestComponent):
    display_name = "Create Video Pin"
    description = "Upload a video and create a video pin on a Pinterest board"
    icon = "Pin"
    name = "PinterestCreateVideoPin"
    action = "create_video_pin"
    inputs = [
        DropdownInput(
            name="board_id",
            display_name="Board ID",
            info=(
                "The ID of the board to pin to. Pinterest IDs are digit strings, e.g. from the `id` of a board "
                "returned by List Boards. Pick one (the plugin lists them), type a value, or wire one in."
            ),
            options=[],
            value="",
            combobox=True,
            real_time_refresh=True,
            input_types=["Message"],
            required=True,
        ),
        DropdownInput(
            name="board_section_id",
            display_name="Board Section ID",
            info=(
                "ID of the board section to put the pin in (optional); it must belong to the board. Digit string,"
                " e.g. the `id` of a section returned by Get Board Sections. An empty string means none. Pick one"
                " (the plugin lists them), type a value, or wire one in. Choices follow board_id."
            ),
            options=[],
            value="",
            combobox=True,
            real_time_refresh=True,
            input_types=["Message"],
        ),
        MessageTextInput(
            name="title",
            display_name="Title",
            info="Title of the pin: one line, at most 100 characters, not blank.",
            value="",
            required=True,
        ),
        MessageTextInput(
            name="video_path",
            display_name="Video Path",
            info=(
                "Path of a local MP4 or MOV video (at most 2 GB) on the machine running the plugin; allowed only "
                "under the host's file_roots. Give one of video_path, video_url or media_id."
            ),
            value="",
        ),
        MessageTextInput(
            name="video_url",
            display_name="Video URL",
            info=(
                "http(s) URL of an MP4 or MOV video (at most 2 GB) that the plugin downloads and streams to "
                "Pinterest's upload; it must be on a public address (unless the host sets allow_private_network) "
                "and send a Content-Length. Give one of video_path, video_url or media_id."
            ),
            value="",
        ),
        MessageTextInput(
            name="media_id",
            display_name="Media ID",
            info=(
                "The media_id of a video already uploaded (returned by an earlier run that outlasted its deadline"
                " while Pinterest processed the video): the run waits for it and creates the pin without "
                "uploading again. Give one of video_path, video_url or media_id."
            ),
            value="",
            advanced=True,
        ),
        MessageTextInput(
            name="cover_image_url",
            display_name="Cover Image URL",
            info=(
                "Public http(s) URL of the cover image, which Pinterest fetches. Give one of cover_image_url, "
                "cover_image_path or cover_key_frame_time."
            ),
            value="",
        ),
        MessageTextInput(
            name="cover_image_path",
            display_name="Cover Image Path",
            info=(
                "Path of a local JPEG or PNG cover image (at most 20 MB), allowed only under the host's "
                "file_roots. Give one of cover_image_url, cover_image_path or cover_key_frame_time."
            ),
            value="",
            advanced=True,
        ),
        MessageTextInput(
            name="cover_key_frame_time",
            display_name="Cover Key Frame Time",
            info=(
                "Second of the video whose frame is the cover (past the end: the last frame). Give one of "
                "cover_image_url, cover_image_path or cover_key_frame_time. A number; leave it empty for none."
            ),
            value="",
        ),
        MultilineInput(
            name="description_input",
            display_name="Description",
            info="Description of the pin (at most 800 characters). An empty string means none.",
            value="",
        ),
        MessageTextInput(
            name="link",
            display_name="Link",
            info=(
                "Source link/URL for the pin: where a click on the pin leads. Must be an http(s) URL. An empty "
                "string means none."
            ),
            value="",
        ),
        MessageTextInput(
            name="alt_text",
            display_name="Alt Text",
            info="Alt text for accessibility (at most 500 characters). An empty string means none.",
            value="",
            advanced=True,
        ),
        BoolInput(
            name="dry_run",
            display_name="Dry Run",
            info=(
                "Check the inputs, a local video and cover, and that the board (and section) exist, and return "
                "what would be sent, without uploading or creating anything (a video_url is not fetched)."
            ),
            value=False,
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
        StrInput(
            name="file_roots",
            display_name="File Roots",
            info=(
                "Directories under which the media actions may read local files (file_path, video_path, "
                "cover_image_path); none by default: every local path is refused (directory paths)."
            ),
            advanced=True,
            is_list=True,
            value=[],
        ),
        BoolInput(
            name="allow_private_network",
            display_name="Allow Private Network",
            info=(
                "Let video_url be downloaded from loopback, private or link-local addresses (a local server, the "
                "sandbox); image URLs only passed on to Pinterest are never fetched."
            ),
            advanced=True,
            value=False,
        ),
    ]
    outputs = [
        Output(
            display_name="Output",
            name="output",
            method="action_data",
        ),
    ]
