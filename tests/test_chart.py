"""Charts of the daily series (``apps/chart.py``): the module with a made-up output,
``run ... --chart`` through the installed console script against the sandbox, and
the same chart as an image block of an MCP tool result.

A chart "shows one line per metric" when each metric's colour (``PALETTE``, in the
metrics' order) covers hundreds of the image's pixel columns: a line crosses the
plot, a legend's sample covers a few dozen columns at most.
"""

import base64
import configparser
import datetime
import io
import json
import sys
from pathlib import Path

import pytest

from modulex_pinterest.apps import chart
from test_cli import cli, strict_json
from test_mcp import mcp_session

np = pytest.importorskip("numpy")
image = pytest.importorskip("matplotlib.image")

METRICS = ["IMPRESSION", "SAVE", "OUTBOUND_CLICK"]
ANALYTICS_INPUT = json.dumps({"date_range": "last_30_days", "metric_types": METRICS})
LINE_COLUMNS = 300  # pixel columns a metric's line covers at least (a legend sample: under 50)
ROOT = Path(__file__).resolve().parent.parent


def made_up(days=30, metrics=METRICS, start=datetime.date(2026, 11, 6)):
    """An output shaped as the analytics actions' (``daily`` rows, ``summary``), numbers varying by day."""
    daily = [
        {
            "date": (start + datetime.timedelta(n)).isoformat(),
            **{m: (n * (i + 3)) % 17 + 10 * i for i, m in enumerate(metrics)},
        }
        for n in range(days)
    ]
    summary = {m: sum(row[m] for row in daily) for m in metrics}
    return {
        "success": True,
        "start_date": daily[0]["date"],
        "end_date": daily[-1]["date"],
        "daily": daily,
        "summary": summary,
    }


def pixels(png):
    """A PNG's pixels as an (height, width, 3) array of 0-255 integers."""
    return (image.imread(io.BytesIO(png))[:, :, :3] * 255).round().astype(int)


def columns_of(rgb_pixels, colour):
    """How many pixel columns hold ``colour`` (``#rrggbb``), give or take anti-aliasing's shading."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return int((np.abs(rgb_pixels - rgb).sum(axis=2) <= 30).any(axis=0).sum())


def assert_one_line_per_metric(png, metrics):
    """The PNG is of the stated size, not blank, and shows each metric's line and no other."""
    drawn = pixels(png)
    assert drawn.shape[:2] == (chart.SIZE[1], chart.SIZE[0])
    background = np.array([255, 255, 255])
    assert len({tuple(p) for p in drawn[(drawn != background).any(axis=2)]}) >= len(metrics)
    for index in range(len(metrics)):
        assert columns_of(drawn, chart.PALETTE[index]) >= LINE_COLUMNS, metrics[index]
    assert columns_of(drawn, chart.PALETTE[len(metrics)]) == 0  # no line for a metric not asked for


# The module, with a made-up output


def test_a_png_chart_has_the_stated_size_and_one_line_per_metric():
    assert_one_line_per_metric(chart.draw(made_up(), "get_account_analytics", "png"), METRICS)
    assert_one_line_per_metric(chart.draw(made_up(metrics=["SAVE"]), "get_pin_analytics", "png"), ["SAVE"])


def test_the_chart_is_titled_with_the_action_and_range_and_labelled():
    figure = chart.figure(made_up(), "get_account_analytics")
    axes = figure.axes[0]
    assert axes.get_title() == "get_account_analytics: 2026-11-06 to 2026-12-05"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("date", "value")
    assert [text.get_text() for text in axes.get_legend().get_texts()] == METRICS
    assert len(figure.axes) == 1  # no rate: one y axis


def test_rates_have_a_right_hand_axis_and_share_the_legend():
    output = made_up(metrics=["IMPRESSION", "SAVE_RATE", "SAVE"])
    for row in output["daily"]:
        row["IMPRESSION"] *= 1000
        row["SAVE_RATE"] /= 1000
    figure = chart.figure(output, "get_account_analytics")
    values, rates = figure.axes
    assert rates.get_ylabel() == "rate"
    assert [line.get_label() for line in rates.get_lines()] == ["SAVE_RATE"]
    assert [text.get_text() for text in values.get_legend().get_texts()] == ["IMPRESSION", "SAVE_RATE", "SAVE"]
    assert_one_line_per_metric(chart.draw(output, "get_account_analytics"), ["IMPRESSION", "SAVE_RATE", "SAVE"])


def test_series_sorts_the_days_leaves_gaps_and_skips_what_is_not_a_number():
    output = {
        "daily": [
            {"date": "2026-11-03", "SAVE": 3, "note": "text", "flag": True},
            {"date": "2026-11-01", "SAVE": 1, "IMPRESSION": 10},
            {"date": "2026-11-02", "IMPRESSION": 20.5, "SAVE": None},
        ]
    }
    days, values = chart.series(output)
    assert [d.isoformat() for d in days] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert values == {"SAVE": [1.0, None, 3.0], "IMPRESSION": [10.0, 20.5, None]}
    assert chart.title("get_pin_analytics", output, days) == "get_pin_analytics: 2026-11-01 to 2026-11-03"


def test_an_output_without_a_daily_list_of_dated_rows_is_not_chartable():
    for output in ({"success": True, "pins": []}, {"daily": "no"}, {"daily": [{"day": "2026-11-01"}]}):
        with pytest.raises(chart.NotChartable):
            chart.draw(output, "list_pins")
    with pytest.raises(chart.NotChartable, match="YYYY-MM-DD"):
        chart.series({"daily": [{"date": "01/11/2026", "SAVE": 1}]})


def test_an_empty_period_still_draws_a_titled_chart():
    png = chart.draw({"success": True, "daily": []}, "get_account_analytics")
    assert pixels(png).shape[:2] == (chart.SIZE[1], chart.SIZE[0])
    assert chart.figure({"daily": []}, "get_account_analytics").axes[0].get_title() == "get_account_analytics: no days"


def test_svg_and_the_file_formats(tmp_path):
    chart.save(made_up(), "get_account_analytics", str(tmp_path / "out.svg"))
    svg = (tmp_path / "out.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and chart.PALETTE[2] in svg
    assert chart.file_format("A.PNG") == "png" and chart.file_format("a.svg") == "svg"
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        chart.file_format("out.jpg")
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"]  # written atomically: no temporary left


def test_the_output_schema_says_whether_an_action_can_be_charted(host):
    charted = [a["name"] for a in host.manifest("pinterest")["actions"] if chart.has_daily(a["output_schema"])]
    assert charted == ["get_account_analytics", "get_pin_analytics", "get_pins_analytics"]
    assert not chart.has_daily({"properties": {"daily": {"type": "object"}}})


def test_the_charts_extra_is_matplotlib_and_the_test_and_dev_extras_install_it():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    extras = {name: value for name, value in setup["options.extras_require"].items()}
    assert extras["charts"].split("#")[0].strip() == "matplotlib>=3.8"
    for extra in ("test", "dev"):
        assert "matplotlib>=3.8" in extras[extra]


# The command line and the MCP server, against the sandbox


def test_without_matplotlib_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    with pytest.raises(chart.MissingExtra, match=r"install it with: pip install 'modulex-pinterest\[charts\]'"):
        chart.draw(made_up(), "get_account_analytics")


def blocked_matplotlib(tmp_path):
    """An environment whose ``import matplotlib`` fails, as without the charts extra."""
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    return {"PYTHONPATH": str(blocker.parent)}


def test_chart_mistakes_are_usage_errors_before_any_request(tmp_path, sandbox):
    common = ("--base-url", sandbox.base_url)
    wrong = [
        (("list_boards", "--chart", "out.png"), "list_boards's output has no daily series", None),
        (("get_account_analytics", "--chart", "out.jpg"), "a chart is a .png or .svg file", None),
        (("get_account_analytics", "--chart", "no/such/out.png"), "no such folder", None),
        (
            ("get_account_analytics", "--chart", "out.png"),
            "install it with: pip install 'modulex-pinterest[charts]'",
            blocked_matplotlib(tmp_path),
        ),
    ]
    for args, words, env in wrong:
        result = cli("run", *args, *common, token=sandbox.access_token, cwd=tmp_path, env=env)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("modulex-pinterest: error: --chart: ") and words in result.stderr
        assert result.stdout == ""
    assert sandbox.exchanges == []
    assert not (tmp_path / "out.png").exists()


def test_run_get_account_analytics_with_a_chart(tmp_path, sandbox):
    common = ("--input", ANALYTICS_INPUT, "--base-url", sandbox.base_url)
    result = cli(
        "run", "get_account_analytics", *common, "--chart", "out.png", token=sandbox.access_token, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    output = strict_json(result.stdout)
    assert len(output["daily"]) == 30 and set(output["daily"][0]) == {"date", *METRICS}
    assert "chart written to out.png" in result.stderr
    assert_one_line_per_metric((tmp_path / "out.png").read_bytes(), METRICS)
    result = cli(
        "run", "get_account_analytics", *common, "--chart", "out.svg", token=sandbox.access_token, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "<svg" in (tmp_path / "out.svg").read_text()


def test_a_failed_action_writes_no_chart(tmp_path, sandbox):
    result = cli(
        "run",
        "get_account_analytics",
        "--input",
        "{}",
        "--chart",
        "out.png",
        "--base-url",
        sandbox.base_url,
        token="not-a-token",
        cwd=tmp_path,
    )
    assert result.returncode == 1 and strict_json(result.stdout)["success"] is False
    assert not (tmp_path / "out.png").exists()


def test_the_mcp_tool_returns_the_same_chart_as_an_image(tmp_path, sandbox):
    with mcp_session(sandbox.base_url, sandbox.access_token, tmp_path) as mcp:
        mcp.initialize()
        result = mcp.call_tool("get_account_analytics", json.loads(ANALYTICS_INPUT))
        boards = mcp.call_tool("list_boards", {"page_size": 1})
    assert not result.get("isError"), result
    text, picture = result["content"]
    assert text["type"] == "text" and json.loads(text["text"]) == result["structuredContent"]
    assert picture["type"] == "image" and picture["mimeType"] == "image/png"
    png = base64.b64decode(picture["data"])
    assert_one_line_per_metric(png, METRICS)
    assert png == chart.draw(result["structuredContent"], "get_account_analytics", "png")  # the CLI's chart
    assert [block["type"] for block in boards["content"]] == ["text"]  # no daily series: no image
