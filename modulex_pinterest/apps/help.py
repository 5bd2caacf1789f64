"""What ``--help`` says about each command: a one-line summary (in the command
list), a one-paragraph description, an example and the exit codes. Text, kept
apart from the parser's structure in :mod:`.parser`."""

from __future__ import annotations

from typing import NamedTuple

from .output import PROG

TOKEN_ENV = "PINTEREST_ACCESS_TOKEN"
BASE_URL_ENV = "PINTEREST_BASE_URL"
WIDTH = 78  # columns of a description paragraph

EXITS_ACTION = (
    "exit codes: 0 the action succeeded; 1 it failed (the JSON says why); 2 a usage error (one line on stderr)"
)
EXITS_PRINT = "exit codes: 0 printed; 2 a usage error (one line on stderr)"
EXITS_SERVE = "exit codes: 0 stopped (Ctrl-C, SIGTERM, or the client closed stdin); 2 a usage error"


SANDBOX_DESCRIPTION = (
    "Serve the embedded Pinterest sandbox until interrupted. Its first output line is JSON with base_url, "
    "access_token and the OAuth app it knows (app id {app_id}, app secret {app_secret}) for `auth login`; with "
    "--env, shell export lines instead; with --background, it serves in a process of its own and the command "
    "ends once it is ready. It listens on loopback unless --public is given."
)


class CommandHelp(NamedTuple):
    summary: str
    description: str
    example: str
    exits: str


COMMAND_HELP: dict[str, CommandHelp] = {
    "actions": CommandHelp(
        "list the actions as JSON",
        "Print the plugin's actions (name, title, description) as a JSON list.",
        f"{PROG} actions",
        EXITS_PRINT,
    ),
    "describe": CommandHelp(
        "an action's manifest entry with its input and output schemas",
        "Print one action's manifest entry as JSON: its input and output JSON Schemas, scopes and examples.",
        f"{PROG} describe create_pin",
        EXITS_PRINT,
    ),
    "run": CommandHelp(
        f"run one action (token from ${TOKEN_ENV} or --credentials)",
        f"Run one action through the reference host and print its output as JSON. The token comes from "
        f"${TOKEN_ENV}, or the credentials from --credentials (OAuth tokens are refreshed and written back). "
        "When the server is not Pinterest's API, one line on stderr names it. The media actions may read "
        "local files under the current directory and each --allow-path DIR only, and download a video_url "
        "from a non-public address only with --allow-private-network. With --chart FILE.png (or .svg), an "
        "output with a daily series (the analytics actions) is also drawn there, one line per metric (pip "
        "install 'modulex-pinterest[charts]').",
        f"{PROG} run list_boards --input '{{\"page_size\": 5}}' --output table\n"
        f"{PROG} run list_pins --input @inputs.json --progress --output jsonl\n"
        f'{PROG} run delete_pin --input \'{{"pin_id": "813744226420795884"}}\' --dry-run\n'
        f'{PROG} run get_account_analytics --input \'{{"date_range": "last_30_days"}}\' --chart views.png\n'
        f'{PROG} run create_pin_from_file --input \'{{"board_id": "397233545249", "title": "A chart", '
        f'"file_path": "chart.png"}}\'',
        EXITS_ACTION + "; 130 interrupted (Ctrl-C: a fetch_all prints what it fetched and how to resume)",
    ),
    "check": CommandHelp(
        'test the credentials ("test connection"): names the account',
        "Make one cheap authenticated call and print whether the credentials work, with the account's name.",
        f"{PROG} check --credentials pinterest.json",
        EXITS_ACTION,
    ),
    "options": CommandHelp(
        "a picker's choices for one input field of an action or a trigger",
        "Print the choices a workflow builder offers for one input field of an action or a trigger (new_pin, "
        "new_board): the boards for board_id, a board's sections for board_section_id, as label/value pairs "
        "with a bookmark for more.",
        f'{PROG} options create_pin board_section_id --input \'{{"board_id": "397233545249"}}\'\n'
        f"{PROG} options new_pin board_id",
        EXITS_ACTION,
    ),
    "poll": CommandHelp(
        "poll a trigger once, keeping its state in a file",
        "Poll one trigger (new_pin, new_board) through the reference host and print its answer as JSON: the "
        "events since the last poll, oldest first, and the new state. The state is read from --state when the "
        "file exists (else this is the first poll: it primes and reports nothing unless emit_existing is "
        "set), and replaced there atomically, readable by its owner only, after a successful poll alone: a "
        "failed poll keeps the old state, so nothing is lost or reported twice. Run it on a schedule.",
        f'{PROG} poll new_pin --input \'{{"board_id": "397233545249"}}\' --state new-pins.json',
        "exit codes: 0 polled (the state is stored); 1 the poll failed (the JSON says why; the state is kept) "
        "or the state file cannot be written (its folder is checked before polling: then nothing is sent; "
        "after a poll: the answer is a failed one, its events come again next time); 2 a usage error (one "
        "line on stderr: a --state in a folder that does not exist, say)",
    ),
    "tools": CommandHelp(
        "the actions as tool definitions for AI agents",
        "Print the actions as tool definitions: MCP's tool list, or OpenAI Chat Completions functions "
        "named pinterest_<action>.",
        f"{PROG} tools --format openai",
        EXITS_PRINT,
    ),
    "mcp": CommandHelp(
        "serve the actions as an MCP server over stdio (pip install 'modulex-pinterest[mcp]')",
        "Serve the actions as MCP tools over standard input and output until the client closes it. "
        "A client that sends a progressToken gets progress notifications for pages, waits, uploads (with a "
        "total) and video processing. The tools may read local files only under each --allow-path DIR "
        "(none by default, not even the current directory: a client may start the server anywhere). Logs "
        "and warnings go to stderr.",
        f"{PROG} mcp --credentials pinterest.json --allow-path ~/Pictures",
        EXITS_SERVE,
    ),
    "auth login": CommandHelp(
        "authorize the app in a browser; store the tokens",
        "Say the app's authorization URL on stderr and open it in a browser when this machine has one, wait "
        "for the browser's redirect on a loopback port (or, on a terminal, for the address the browser ended "
        "on, pasted), have the plugin exchange the code, and store the credentials (0600); stdout gets only "
        "the result's JSON. The folder, the port and a loopback authorization page are checked first. The app "
        "secret comes from --app-secret-file or $PINTEREST_APP_SECRET, never from the command line. Against "
        "the sandbox (a loopback --base-url) its page approves at once; `modulex-pinterest sandbox --env` "
        "exports its app id and secret.",
        f'eval "$({PROG} sandbox --env --background)"\n'
        f'{PROG} auth login --app-id "$PINTEREST_APP_ID" --credentials pinterest.json --port 0\n'
        "(umask 077 && cat > app-secret.txt)   # for a real app: paste its secret, then Ctrl-D\n"
        f"{PROG} auth login --app-id 1234567 --app-secret-file app-secret.txt --credentials pinterest.json",
        "exit codes: 0 stored; 1 the login failed (not authorized in time, the exchange or the store failed); "
        "2 a usage error (one line on stderr)",
    ),
    "auth refresh": CommandHelp(
        "refresh stored OAuth tokens now (e.g. on a schedule)",
        "Refresh the stored grant now, under the same lease and compare-and-swap as every worker, so it "
        "never races them; run it daily from cron, say.",
        f"{PROG} auth refresh --credentials pinterest.json",
        EXITS_ACTION,
    ),
    "auth import": CommandHelp(
        "copy a credentials file into a store (a file or Redis)",
        "Copy a credentials JSON file into a store, e.g. to share one grant between machines in Redis.",
        f"{PROG} auth import pinterest.json --credentials 'redis://10.0.0.5:6379/0?key=pinterest:acme'",
        "exit codes: 0 copied; 2 a usage error (one line on stderr)",
    ),
    "auth encrypt": CommandHelp(
        "seal a store's credentials with the key in MODULEX_PINTEREST_KEY",
        "Rewrite a store's credentials sealed with the first key of MODULEX_PINTEREST_KEY (or the file "
        "MODULEX_PINTEREST_KEY_FILE names): a plain store is upgraded in place, and after a key rotation "
        "(new key first, old key after it) the credentials are re-sealed with the new key. Needs the crypto "
        "extra.",
        f'export MODULEX_PINTEREST_KEY="$({PROG} auth new-key)"\n{PROG} auth encrypt --credentials pinterest.json',
        "exit codes: 0 sealed; 2 a usage error: no key, a key that does not open the store (one line on stderr)",
    ),
    "auth new-key": CommandHelp(
        "print a new key for MODULEX_PINTEREST_KEY",
        "Print a new Fernet key (32 random bytes, URL-safe base64) for MODULEX_PINTEREST_KEY or a key file. "
        "Keep it apart from the credentials and back it up: sealed credentials cannot be read without it.",
        f"{PROG} auth new-key > ~/.config/modulex-pinterest.key   # written readable by you only",
        "exit codes: 0 printed; 2 the crypto extra is not installed (one line on stderr)",
    ),
    "sandbox": CommandHelp(
        "serve the embedded Pinterest sandbox until interrupted",
        SANDBOX_DESCRIPTION.format(app_id="...", app_secret="..."),
        f'eval "$({PROG} sandbox --env --background)"\n{PROG} run list_boards\nkill "$PINTEREST_SANDBOX_PID"',
        "exit codes: 0 stopped (Ctrl-C or SIGTERM), or ready in the background; 2 a usage error "
        "(a busy port, an unknown host: one line on stderr)",
    ),
    "demo": CommandHelp(
        "run a sample workflow against the embedded sandbox",
        "Start the embedded sandbox on a free loopback port and run a workflow through the reference "
        "host: list boards, list a board's sections, create a pin, list the section's pins.",
        f"{PROG} demo",
        "exit codes: 0 the workflow ran to its end; 1 a node failed",
    ),
}
