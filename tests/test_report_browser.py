"""The HTML report in a real browser: headless Chromium at desktop (1,400 px) and phone (390 px)
widths and printed to PDF.

Checks that no table, image or figure runs past the viewport (nor any scroll box scrolls
sideways) and that every table column header survives printing (``pdftotext``). Skipped, with
the reason, only when Chromium or pdftotext is not installed (CI installs both: Debian packages
``chromium`` and ``poppler-utils``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import riskcalc as rc
import synthetic
from riskcalc.release.combinations import most_identifying, uniqueness_staircase
from riskcalc.release.report import report_files

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
PDFTOTEXT = shutil.which("pdftotext")

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
    ),
]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
]

#: Written into the page after layout: the viewport width and every element past its edge.
MEASURE = """
<script>
window.addEventListener('load', function () {
  var vw = document.documentElement.clientWidth, bad = [];
  document.querySelectorAll('table, img, figure, pre, p, h1, h2, h3, dl, svg').forEach(function (el, i) {
    var r = el.getBoundingClientRect();
    if (r.right > vw + 0.5 || r.left < -0.5) bad.push(el.tagName + '#' + i + ' right=' + Math.round(r.right));
  });
  document.querySelectorAll('.wide').forEach(function (el, i) {
    if (el.scrollWidth > el.clientWidth + 1) bad.push('scrollbox#' + i + ' ' + el.scrollWidth + '>' + el.clientWidth);
  });
  var shown = [];
  document.querySelectorAll('figure img').forEach(function (img) {
    shown.push({natural: img.naturalWidth, width: img.getBoundingClientRect().width});
  });
  var toc = [];
  document.querySelectorAll('nav#contents a').forEach(function (a) { toc.push(a.getAttribute('href')); });
  var heads = [];
  document.querySelectorAll('h2[id]').forEach(function (h) { heads.push('#' + h.id); });
  var out = parent.document.createElement('pre');
  out.id = 'measure';
  out.textContent = JSON.stringify({viewport: vw, page: document.documentElement.scrollWidth,
                                    images: document.images.length, bad: bad, shown: shown,
                                    toc: toc, heads: heads, height: document.documentElement.scrollHeight});
  parent.document.body.appendChild(out);
});
</script>
"""


def _chromium(args, tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


class _Headers(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headers, self._in = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "th":
            self._in, self._text = True, ""

    def handle_data(self, data):
        if self._in:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "th" and self._in:
            self.headers.append(self._text.strip())
            self._in = False


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A full synthetic report (every section) written to a folder with its chart files."""
    cohort = synthetic.generate_cohort(4_000, rng=11)
    table = rc.tier_risk_table(cohort)
    tier1 = synthetic.tier_extract(cohort, 1)
    fields = ["sex", "date_of_birth", "postcode", "urn", "nc_year"]
    files = report_files(
        table,
        identifying={1: most_identifying(tier1, fields, max_size=3)},
        staircase=("tier 1", uniqueness_staircase(tier1, fields)),
        what_if=rc.what_if(cohort, before=table),
        coarsening=rc.smallest_coarsening(
            cohort, 2, max_suppressed=0.5, scenarios={"gate": {"fields": ["urn", "nc_year", "sex"]}}
        ),
    )
    folder = tmp_path_factory.mktemp("report")
    for name, content in files.items():
        (folder / name).write_bytes(
            content if isinstance(content, bytes) else content.encode("utf-8")
        )
    return folder


def _measure(report: Path, width: int, tmp_path: Path) -> dict:
    """Lay the report out in a frame ``width`` pixels wide (a headless window has a minimum
    width; a frame has none) and read back what the script inside it measured."""
    inner = (
        (report / "report.html").read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>")
    )
    page = tmp_path / f"measure_{width}.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
        f'<iframe style="width:{width}px;height:1000px;border:0" srcdoc="{html.escape(inner, quote=True)}">'
        "</iframe></body></html>",
        encoding="utf-8",
    )
    dom = _chromium(
        [
            f"--window-size={width + 100},1100",
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.as_uri(),
        ],
        tmp_path,
    ).stdout
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    return json.loads(
        found.group(1).replace("&quot;", '"').replace("&gt;", ">").replace("&amp;", "&")
    )


@pytest.mark.parametrize("width", [1400, 390])
def test_nothing_runs_past_the_viewport(report, width, tmp_path):
    m = _measure(report, width, tmp_path)
    assert m["viewport"] == pytest.approx(width, abs=20)  # the window really is that wide
    assert m["images"] == 3
    assert m["bad"] == []
    assert m["page"] <= m["viewport"]


@pytest.mark.skipif(
    PDFTOTEXT is None, reason="pdftotext is not installed (apt-get install poppler-utils)"
)
def test_every_table_column_is_printed(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    _chromium(
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", (report / "report.html").as_uri()],
        tmp_path,
    )
    text = subprocess.run(
        [PDFTOTEXT, "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(
        r"-\s+", "-", re.sub(r"\s+", " ", text.replace("\u200b", ""))
    )  # a header may wrap at a hyphen
    parser = _Headers()
    parser.feed((report / "report.html").read_text(encoding="utf-8"))
    headers = set(parser.headers)
    # the wide tables' columns are all there: tier 3 (rounded), sensitive values (exclusions)
    assert {"Pupils in recoverable rounded cells", "Sensitive field", "Home area"} <= headers
    missing = [h for h in sorted(headers) if re.sub(r"\s+", " ", h) not in flat]
    assert missing == []
    # and the rows of the sensitive-values table, down to the last field
    assert "permanent exclusion" in flat and "exclusion reason" in flat
    assert "The data are synthetic" in flat


def test_chart_files_are_png_and_svg(report):
    for name in ("chart_tiers", "chart_staircase", "chart_what_if"):
        assert (report / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = (report / f"{name}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg and "synthetic" in svg  # the source line is inside the image


def test_screenshots_render(report, tmp_path):
    """Both widths render to an image whose width is the window's (a visual check is in the
    session report)."""
    from PIL import Image

    for width in (1400, 390):
        shot = tmp_path / f"shot_{width}.png"
        _chromium(
            [
                f"--window-size={width},2000",
                f"--screenshot={shot}",
                (report / "report.html").as_uri(),
            ],
            tmp_path,
        )
        assert Image.open(shot).size[0] == width


@pytest.fixture(scope="module")
def own_report(tmp_path_factory):
    """A report on an analyst's own file: a long file name and a 64-character hash at the top."""
    from riskcalc._provenance import describe_file

    folder = tmp_path_factory.mktemp("own")
    path = folder / "pupil_level_extract_autumn_census_2024_final_v2.csv"
    frame = synthetic.tier_extract(synthetic.generate_cohort(2_000, rng=4), 2)
    frame.to_csv(path, index=False)
    table = rc.risk_table(
        {"autumn_2024": frame}, provenance={"inputs": [describe_file(path, len(frame))]}
    )
    (folder / "report.html").write_text(report_files(table)["report.html"], encoding="utf-8")
    return folder


@pytest.mark.parametrize("width", [1400, 390])
def test_own_file_report_fits_with_its_hash(own_report, width, tmp_path):
    m = _measure(own_report, width, tmp_path)
    assert m["viewport"] == pytest.approx(width, abs=20)
    assert m["bad"] == [] and m["page"] <= m["viewport"]


@pytest.mark.parametrize("width", [1400, 390])
def test_chart_text_is_readable_at_every_width(report, width, tmp_path):
    """Before: on a 390-pixel phone the desktop charts (7.5 inches) shrank to about 48 pixels an
    inch, their 6-point labels about 4 pixels high, the what-if labels rotated (issue 24, item 7).
    Now a phone gets each chart's phone rendition, whose smallest text is 9 pixels or more."""
    from riskcalc.release import report as rpt

    m = _measure(report, width, tmp_path)
    assert len(m["shown"]) == 3
    for img in m["shown"]:
        inches = img["natural"] / rpt.DPI  # the rendition the browser chose
        if width == 390:
            assert inches == pytest.approx(rpt.PHONE_WIDTH_IN, abs=0.01)
            assert rpt.PHONE_MIN_PT / 72 * img["width"] / inches >= 9.0
        else:  # the desktop chart, at no more than its print size
            assert inches >= 7.5 and 8 / 72 * img["width"] / inches >= 9.0


def test_phone_charts_have_no_small_or_rotated_text(report):
    from matplotlib.text import Text

    from riskcalc.release import report as rpt

    cohort = synthetic.generate_cohort(3_000, rng=5)
    table = rc.tier_risk_table(cohort)
    tier1 = synthetic.tier_extract(cohort, 1)
    specs = rpt.chart_specs(
        table,
        staircase=("tier 1", uniqueness_staircase(tier1, ["sex", "date_of_birth", "postcode"])),
        what_if=rc.what_if(cohort, before=table),
    )
    assert set(specs) == {"chart_tiers", "chart_staircase", "chart_what_if"}
    for builder, args in specs.values():
        fig = builder(*args, phone=True)
        texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
        assert fig.get_figwidth() == pytest.approx(rpt.PHONE_WIDTH_IN)
        assert min(t.get_fontsize() for t in texts) >= rpt.PHONE_MIN_PT
        assert all(t.get_rotation() == 0 for t in texts), builder.__name__


@pytest.mark.parametrize("width", [1400, 390])
def test_contents_link_every_section(report, width, tmp_path):
    """Before: the report (about 40,700 pixels long on a phone) had no table of contents."""
    m = _measure(report, width, tmp_path)
    assert m["toc"] and set(m["toc"]) == set(m["heads"]) - {"#findings", "#contents"}
    assert m["toc"] == [h for h in m["heads"] if h in m["toc"]]  # in page order


@pytest.fixture(scope="module")
def attack_report(tmp_path_factory):
    """A report with the simulated linkage attack section (exact attack only: quick)."""
    from riskcalc.release.attack import attack_experiment

    cohort = synthetic.generate_cohort(4_000, rng=11)
    files = report_files(
        rc.tier_risk_table(cohort), attack=attack_experiment(cohort=cohort, probabilistic=False)
    )
    folder = tmp_path_factory.mktemp("attack")
    (folder / "report.html").write_text(files["report.html"], encoding="utf-8")
    return folder


@pytest.mark.parametrize("width", [1400, 390])
def test_attack_section_fits(attack_report, width, tmp_path):
    """Before: the attack section's tables ran to 1,356 pixels on a 390-pixel phone (and past a
    1,400-pixel window), and its chart's legend was cut off at the chart's edge."""
    m = _measure(attack_report, width, tmp_path)
    assert m["bad"] == [] and m["page"] <= m["viewport"]
    assert "#attack" in m["toc"]


@pytest.fixture(scope="module")
def ledger_report(tmp_path_factory):
    """The report of ``riskcalc ledger`` (every section) on a small synthetic panel."""
    from riskcalc.release.ledger_job import ledger_job

    result = ledger_job(n_pupils=600, scenarios=("school_gate", "neighbour"))
    folder = tmp_path_factory.mktemp("ledger")
    for name, content in result.files().items():
        (folder / name).write_bytes(
            content if isinstance(content, bytes) else content.encode("utf-8")
        )
    return folder


@pytest.mark.parametrize("width", [1400, 390])
def test_ledger_report_fits(ledger_report, width, tmp_path):
    m = _measure(ledger_report, width, tmp_path)
    assert m["viewport"] == pytest.approx(width, abs=20)
    assert m["bad"] == [] and m["page"] <= m["viewport"]
    assert m["images"] == 2  # the timeline and the distribution
    assert m["toc"] and set(m["toc"]) == set(m["heads"]) - {"#contents"}
    for section in ("#ledger", "#ledger-timeline", "#ledger-policies", "#ledger-collusion"):
        assert section in m["toc"]
    from riskcalc.release import report as rpt

    for img in m["shown"]:
        inches = img["natural"] / rpt.DPI
        if width == 390:  # the phone rendition, its smallest text 9 pixels or more
            assert inches == pytest.approx(rpt.PHONE_WIDTH_IN, abs=0.01)
            assert rpt.PHONE_MIN_PT / 72 * img["width"] / inches >= 9.0
        else:
            assert inches >= 7.5


@pytest.mark.skipif(
    PDFTOTEXT is None, reason="pdftotext is not installed (apt-get install poppler-utils)"
)
def test_ledger_report_prints_every_column(ledger_report, tmp_path):
    pdf = tmp_path / "ledger.pdf"
    _chromium(
        [
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            (ledger_report / "report.html").as_uri(),
        ],
        tmp_path,
    )
    text = subprocess.run(
        [PDFTOTEXT, "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"-\s+", "-", re.sub(r"\s+", " ", text.replace("\u200b", "")))
    parser = _Headers()
    parser.feed((ledger_report / "report.html").read_text(encoding="utf-8"))
    headers = set(parser.headers)
    assert {
        "Children no longer singled out",
        "Gain from pooling",
        "Children singled out",
    } <= headers
    missing = [h for h in sorted(headers) if re.sub(r"\s+", " ", h) not in flat]
    assert missing == []
    assert "The data are synthetic" in flat


def test_ledger_phone_charts_have_no_small_or_rotated_text():
    from matplotlib.text import Text

    from riskcalc.release import report as rpt
    from riskcalc.release.ledger_job import ledger_job
    from riskcalc.release.ledger_report import chart_distribution, chart_timeline

    result = ledger_job(
        n_pupils=400, scenarios=("school_gate",), policies=False, collusion=False, report=False
    )
    for builder in (chart_timeline, chart_distribution):
        fig = builder(result, phone=True)
        texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
        assert fig.get_figwidth() == pytest.approx(rpt.PHONE_WIDTH_IN)
        assert min(t.get_fontsize() for t in texts) >= rpt.PHONE_MIN_PT
        assert all(t.get_rotation() == 0 for t in texts), builder.__name__
        svg_source = " ".join(t.get_text() for t in texts)
        assert "synthetic" in svg_source.lower()  # the source line is inside the image


@pytest.fixture(scope="module")
def own_ledger_report(tmp_path_factory):
    """The ledger report on a user's panel and ledger files: long names, hashes, withheld cells."""
    from riskcalc.release.ledger import write_ledger_csv
    from riskcalc.release.ledger_job import BY, ledger_job

    folder = tmp_path_factory.mktemp("own_ledger")
    cols = ["urn", "nc_year", "sex", "year_of_birth", "month_of_birth", "la_code", *BY]
    panel = synthetic.generate_panel(500, first_year=2011, years=5, rng=3, columns=cols)
    panel_path = folder / "national_pupil_database_panel_extract_2011_2015_final_v3.csv"
    panel.to_csv(panel_path, index=False)
    ledger_path = folder / "dfe_third_party_release_register_2012_2014_as_published.csv"
    write_ledger_csv(synthetic.generate_ledger(3, period="2012-2014").iloc[:100], ledger_path)
    result = ledger_job(ledger=str(ledger_path), panel=str(panel_path), scenarios=("school_gate",))
    assert (result.by["withheld"] != "").any()
    out = folder / "out"
    out.mkdir()
    for name, content in result.files().items():
        (out / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return out


@pytest.mark.parametrize("width", [1400, 390])
def test_own_ledger_report_fits(own_ledger_report, width, tmp_path):
    m = _measure(own_ledger_report, width, tmp_path)
    assert m["viewport"] == pytest.approx(width, abs=20)
    assert m["bad"] == [] and m["page"] <= m["viewport"]
