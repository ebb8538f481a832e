"""Build the book with warnings as errors, then open every page in headless Chromium.

Each page is loaded once at 1280 x 900 and once at 390 x 844 (a phone) per worker (`visit`);
every test reads what that load measured. At both widths: no console errors, nothing fetched
from outside the site, maths typeset; axe-core (the npm package pinned in
.ci/install-browser) finds no serious or critical WCAG 2.1 A/AA violation in light mode, nor
of its colour rules once the page is switched to dark in the same load; whatever scrolls
sideways (equations, tables, outputs, code) shows a cue and a scrollbar, nothing is cut off
by a box that does not scroll; figures are shown with text at least 10 px (1280 px) or 9 px
(390 px) tall. At 1280 px: real alt text, no output wider than its box, Colab and download
links, exercise titles numbered per chapter, distinct exercise and solution pages. At 390 px
the title leaves room for the text; at 390 px and 800 px the menu button opens the
navigation and the close button in it closes it.

Drop-downs (solutions, hidden code) are opened before anything is measured, so that their
content is checked as a reader who opens them sees it.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import posixpath
import re
import shutil
import threading
from pathlib import Path

import nbformat
import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TOOLS = Path(
    os.environ.get("COURSE_BROWSER_TOOLS")
    or Path.home() / ".cache" / "sequence-models-course" / "browser-tools"
)
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


PAGES = _pages()
NOTEBOOK_PAGES = [page for page in PAGES if (ROOT / f"{page}.ipynb").exists()]
# Each chapter in chapters/ with its solution page in solutions/.
PAIRS = [
    (page, "solutions/" + page.split("/", 1)[1])
    for page in NOTEBOOK_PAGES
    if page.startswith("chapters/") and "solutions/" + page.split("/", 1)[1] in NOTEBOOK_PAGES
]
DESKTOP = (1280, 900)
PHONE = (390, 844)
TABLET = (800, 844)
WIDTHS = {DESKTOP[0]: DESKTOP, PHONE[0]: PHONE}
# The phone menu is tried on a page without and a page with a notebook.
MENU_PAGES = (PAGES[0], NOTEBOOK_PAGES[0])
# Figures' smallest text, in CSS px, as the page shows it (see test_figure_text_is_readable).
MIN_FIGURE_TEXT_PX = {DESKTOP[0]: 10.0, PHONE[0]: 9.0}


def _by_page_and_width(pages: list[str]) -> list:
    # The page comes first in the test's id: tests/conftest.py deals the tests out to the
    # xdist workers by it, so that a page's two loads happen once, on one worker.
    return [pytest.param(page, width, id=f"{page}-{width}") for page in pages for width in WIDTHS]


@pytest.fixture(scope="module")
def site(book) -> Path:
    return book  # conftest.py: one build per test session, shared by every test that needs it


def test_build_has_every_page(site):
    for page in PAGES:
        assert (site / f"{page}.html").is_file(), page
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    # MathJax loads its own components; a page loads only its entry point.
    intro = (site / f"{PAGES[0]}.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*src="([^"]*mathjax/[^"]*)"', intro)
    assert len(scripts) == 1 and "tex-chtml.js" in scripts[0], scripts


def test_pages_have_a_favicon(site):
    for page in PAGES:
        text = (site / f"{page}.html").read_text(encoding="utf-8")
        icon = re.search(r'<link rel="icon" href="([^"]+)"', text)
        assert icon, f"{page}: no <link rel=icon> (browsers then ask for /favicon.ico, a 404)"
        assert (site / page).parent.joinpath(icon.group(1)).resolve().is_file(), icon.group(1)


def test_no_terminal_colours_reach_the_pages(site):
    # Keras stores its model summaries twice: as rich's <pre> coloured for a dark terminal
    # (a cyan "None" on the light page was 1.6:1) and as text with ANSI codes.
    # _ext/book_fixes.py shows the text without its codes.
    for page in NOTEBOOK_PAGES:
        text = (site / f"{page}.html").read_text(encoding="utf-8")
        assert "\x1b" not in text and "&#27;" not in text, page
        styled = re.findall(r'class="output text_html">\s*<pre[^>]*>.{0,80}', text)
        assert not styled, f"{page}: terminal-styled outputs {styled[:2]}"


def test_terminal_escape_codes_are_stripped():
    import sys

    sys.path.insert(0, str(ROOT / "_ext"))
    from book_fixes import html_pre_text, strip_ansi

    coloured = (
        "\x1b[1mModel: \x1b[0m\x1b[38;5;45mNone\x1b[0m \x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\"
    )
    assert strip_ansi(coloured) == "Model: None link"
    assert strip_ansi("plain ┃ text [1m") == "plain ┃ text [1m"
    rich = (
        '<pre style="color: #00d7ff">a &lt;b&gt; <span style="color: #00af00">1,568</span>\n</pre>'
    )
    assert html_pre_text(rich) == "a <b> 1,568\n"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def axe_source() -> str:
    pinned = re.search(
        r"^AXE_CORE_VERSION=(\S+)$",
        (ROOT / ".ci" / "install-browser").read_text(encoding="utf-8"),
        re.MULTILINE,
    ).group(1)
    if not AXE.is_file():
        pytest.fail(f"axe-core is not in {AXE.parent}: run `bash .ci/install-browser`")
    version = json.loads((AXE.parent / "package.json").read_text(encoding="utf-8"))["version"]
    if version != pinned:
        pytest.fail(f"axe-core {version} in {AXE.parent}, pinned {pinned}: run .ci/install-browser")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.fail("headless browser tests need Debian's chromium and chromium-driver (.ci/run)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)  # axe-core on the longest page, on a busy machine
    yield driver
    driver.quit()


# Resolves once MathJax has typeset the page (it loads from the site, not a CDN) and the
# page's scripts (scroll-cues.js, phone-figures.js) have laid the result out, two frames on.
_READY = """
const done = arguments[arguments.length - 1];
const start = Date.now();
const frames = () => requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
(function wait() {
  if (!document.querySelector('script[src*="tex-chtml"]')) { frames(); }
  else if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(frames);
  } else if (Date.now() - start > 20000) { done(false); }
  else { setTimeout(wait, 100); }
})();
"""


def _open(browser, url: str) -> None:
    browser.get(url)
    browser.execute_async_script(_READY)


def _has_maths(page: str) -> bool:
    path = ROOT / f"{page}.ipynb"
    text = path.read_text(encoding="utf-8") if path.exists() else (ROOT / f"{page}.md").read_text()
    return "$" in text


def _image_outputs(page: str) -> int:
    notebook = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    return sum(
        1
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )


# What the tests read from a page as it loads (before the drop-downs are opened).
_READ_PAGE = """
const article = document.querySelector('article');
const first = document.querySelector('article .exercise .admonition-title');
const h1 = document.querySelector('article h1');
return {
  resources: performance.getEntriesByType('resource').map(r => r.name),
  typeset: document.querySelectorAll('mjx-container').length,
  untypeset: Array.from(document.querySelectorAll('.math')).filter(
    e => !e.querySelector('mjx-container')).length,
  figures_loaded: Array.from(document.querySelectorAll('.cell_output img'))
    .filter(img => img.complete && img.naturalWidth > 0).length,
  images: Array.from(document.querySelectorAll('article img'))
    .map(img => [img.getAttribute('src'), img.getAttribute('alt')]),
  colab_links: Array.from(document.querySelectorAll('a')).map(a => a.href)
    .filter(h => h.includes('colab.research.google.com')),
  download_links: Array.from(document.querySelectorAll('a.btn-download-source-button'))
    .map(a => a.href),
  text: article ? article.innerText : '',
  admonition_titles: Array.from(document.querySelectorAll('article .admonition-title'))
    .map(t => t.textContent.trim()),
  first_exercise_title: first ? first.textContent.trim() : null,
  title_height: h1 ? h1.getBoundingClientRect().height : 0,
  viewport_height: window.innerHeight,
};
"""

# Solution drop-downs and hidden code opened, without the theme's transitions (the colour
# switch below must be measured at its end, not in its middle).
_OPEN_DROPDOWNS = """
const done = arguments[arguments.length - 1];
const style = document.createElement('style');
style.textContent = '*, *::before, *::after { transition: none !important; '
  + 'animation: none !important; }';
document.head.appendChild(style);
document.querySelectorAll('.toggle-hidden button.toggle-button').forEach(b => {
  if (b.closest('.toggle').classList.contains('toggle-hidden')) b.click(); });
document.querySelectorAll('article details').forEach(d => { d.open = true; });
setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))), 300);
"""

_WIDE_OUTPUTS = """
const article = document.querySelector('article.bd-article');
const width = article.clientWidth;
const wide = [], over = [];
const where = (cell, index) => {
  const input = cell.querySelector('.cell_input pre');
  return {cell: index + 1,
          input: input ? input.textContent.trim().split('\\n')[0].slice(0, 60) : ''};
};
Array.from(article.querySelectorAll('div.cell')).forEach((cell, index) => {
  cell.querySelectorAll('.cell_output').forEach(output => {
    const parts = [output, ...output.querySelectorAll('*')];
    const widest = Math.max(...parts.map(e => e.scrollWidth));
    if (widest > width + 1) {
      wide.push({...where(cell, index), width: widest,
                 output: output.textContent.trim().split('\\n')[0].slice(0, 60)});
    }
    // Text that does not fit its own box (a drop-down is narrower than the article).
    output.querySelectorAll('pre').forEach(pre => {
      if (pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1) {
        over.push({...where(cell, index), content: pre.scrollWidth, box: pre.clientWidth,
                   output: pre.textContent.trim().split('\\n')[0].slice(0, 60)});
      }
    });
  });
});
return {width: width, wide: wide, over: over};
"""

# Figures as shown: their PNG's size and the width they are drawn at on the page.
_FIGURES = """
return Array.from(document.querySelectorAll('article .cell_output img')).map(img => ({
  src: img.getAttribute('src'), natural: img.naturalWidth,
  shown: img.getBoundingClientRect().width}));
"""

# Every element of the article that scrolls sideways, with its cue at the start and once
# scrolled to the end, and every box that cuts off what it holds without scrolling.
_SCROLLING = """
const done = arguments[arguments.length - 1];
const article = document.querySelector('article.bd-article');
const area = article.getBoundingClientRect();
const label = e => (e.tagName.toLowerCase() + '.' + Array.from(e.classList).join('.')).slice(0, 70);
const text = e => e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60);
const cue = e => getComputedStyle(e).maskImage.includes('gradient');
const scrolls = [], cut = [];
article.querySelectorAll('*').forEach(e => {
  if (e.scrollWidth <= e.clientWidth + 1 || e.closest('mjx-assistive-mml')) return;
  const style = getComputedStyle(e);
  if (style.overflowX === 'visible') return;
  const box = e.getBoundingClientRect();
  if (style.overflowX === 'auto' || style.overflowX === 'scroll') {
    const borders = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    scrolls.push({element: e, label: label(e), text: text(e), content: e.scrollWidth,
      box: e.clientWidth, start: cue(e) && e.classList.contains('course-more-right'),
      scrollbar: e.offsetHeight - e.clientHeight - borders >= 4
        && style.scrollbarWidth !== 'none',
      inside: box.left >= area.left - 1 && box.right <= area.right + 1});
    return;
  }
  // MathJax's own parts clip their stretchy pieces by design.
  if (e.tagName.startsWith('MJX-') && e.tagName !== 'MJX-CONTAINER') return;
  let right = box.right;
  e.querySelectorAll('*').forEach(c => {
    if (c.closest('mjx-assistive-mml')) return;
    const r = c.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) right = Math.max(right, r.right);
  });
  if (right > box.right + 1) {
    cut.push({label: label(e), text: text(e), by: Math.round(right - box.right)});
  }
});
scrolls.forEach(s => { s.element.scrollLeft = s.element.scrollWidth; });
requestAnimationFrame(() => requestAnimationFrame(() => {
  scrolls.forEach(s => {
    const e = s.element;
    s.end = cue(e) && e.classList.contains('course-more-left')
      && !e.classList.contains('course-more-right');
    e.scrollLeft = 0;
    delete s.element;
  });
  done({scrolls: scrolls, cut: cut,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth});
}));
"""

# axe-core in the given colour mode, set as the theme sets it (data-theme drives its CSS), in
# the same load: all its WCAG A/AA rules, or only its colour rules (the others read the DOM,
# which the mode does not change).
_AXE = """
const [mode, tags, colourOnly, done] = arguments;
document.documentElement.dataset.theme = mode;
document.documentElement.dataset.mode = mode;
const options = {resultTypes: ['violations']};
options.runOnly = colourOnly
  ? {type: 'rule', values: axe.getRules(tags).filter(r => r.tags.includes('cat.color'))
      .map(r => r.ruleId)}
  : {type: 'tag', values: tags};
requestAnimationFrame(() => requestAnimationFrame(() => {
  axe.run(document, options).then(result => done(result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '),
                              summary: (n.failureSummary || '').split('\\n').pop().trim()})),
  })))).catch(error => done(String(error)));
}));
"""

# The syntax colours of code are two thirds of a solution page's elements and most of axe's
# time there (axe's own exclude option is slower still). A token's contrast depends only on
# its class (its colour in each mode) and the code background, the same in every code block:
# before axe runs, each code block keeps the first token of each class on the page and the
# others become plain text (the text itself, in the block's own colour, is still checked).
_FEWER_TOKENS = """
const seen = new Set();
document.querySelectorAll('.highlight pre').forEach(pre => {
  Array.from(pre.children).forEach(span => {
    if (span.tagName !== 'SPAN') return;
    if (!seen.has(span.className)) { seen.add(span.className); return; }
    span.replaceWith(document.createTextNode(span.textContent));
  });
});
"""

_LIGHT = "document.documentElement.dataset.theme = document.documentElement.dataset.mode = 'light';"

# The phone menu: what is shown, the visible menu button, the close button in the dialog.
_MENU_STATE = """
const visible = b => { const r = b.getBoundingClientRect(); const s = getComputedStyle(b);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; };
const dialog = document.getElementById('pst-primary-sidebar-modal');
const links = !dialog || !dialog.open ? 0 : Array.from(dialog.querySelectorAll('nav a'))
  .filter(a => { const r = a.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.left < window.innerWidth; }).length;
const menu = Array.from(document.querySelectorAll('.primary-toggle')).find(visible) || null;
const close = dialog && dialog.open ? dialog.querySelector('.course-close-sidebar') : null;
return {
  open: !!dialog && dialog.open, links: links, menu: menu,
  close: close && visible(close) ? close : null,
  close_first: !!close && dialog.querySelector('button, a[href], [tabindex]') === close,
  focus_on_menu: !!menu && document.activeElement === menu,
  tooltips: Array.from(document.querySelectorAll('.tooltip')).filter(visible)
    .map(t => t.textContent.trim()),
};
"""

_PAUSE = "const done = arguments[arguments.length - 1]; setTimeout(() => done(true), arguments[0]);"


def _menu(browser) -> dict:
    """Open the navigation with the menu button and close it with the close button in it,
    with the browser's own clicks (real pointer events, refused if something covers the
    button, the focus moved as a tap moves it)."""
    from selenium.common.exceptions import ElementClickInterceptedException

    state = browser.execute_script(_MENU_STATE)
    result = {"before": state["links"], "menu": state["menu"] is not None}
    if state["menu"] is None:
        return result
    state["menu"].click()
    for _ in range(30):
        state = browser.execute_script(_MENU_STATE)
        if state["links"]:
            break
        browser.execute_async_script(_PAUSE, 100)
    result.update(opened=state["links"], close=state["close"] is not None)
    result["close_first"] = state["close_first"]
    if state["close"] is None:
        return result
    try:
        state["close"].click()
    except ElementClickInterceptedException as error:
        result["covered"] = error.msg.splitlines()[0]
        return result
    # Bootstrap shows a tooltip 500 ms after the focus or the pointer reached its button.
    browser.execute_async_script(_PAUSE, 800)
    state = browser.execute_script(_MENU_STATE)
    result.update(
        closed=not state["open"], focus_on_menu=state["focus_on_menu"], tooltips=state["tooltips"]
    )
    return result


@pytest.fixture(scope="module")
def visit(browser, server, axe_source):
    """``visit(page, width=1280) -> dict``: what one load of the page at that width measured.

    Each page is opened once per width and module (per xdist worker); every test reads the
    same visit. The outputs, figures and what scrolls are measured after the drop-downs are
    opened; axe runs last, in light then dark mode; the phone menu is tried after that, on
    MENU_PAGES.
    """
    seen: dict[tuple[str, int], dict] = {}

    def read(page: str, width: int = DESKTOP[0]) -> dict:
        if (page, width) not in seen:
            browser.set_window_size(*WIDTHS[width])
            browser.get_log("browser")  # drop what earlier pages logged
            _open(browser, f"{server}/{page}.html")
            errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
            report = browser.execute_script(_READ_PAGE)
            report["errors"] = errors
            browser.execute_async_script(_OPEN_DROPDOWNS)
            report["wide_outputs"] = browser.execute_script(_WIDE_OUTPUTS)
            report["figures"] = browser.execute_script(_FIGURES)
            report["scrolling"] = browser.execute_async_script(_SCROLLING)
            browser.execute_script(axe_source)
            browser.execute_script(_FEWER_TOKENS)
            report["axe"] = {
                "light": browser.execute_async_script(_AXE, "light", AXE_TAGS, False),
                "dark": browser.execute_async_script(_AXE, "dark", AXE_TAGS, True),
            }
            browser.execute_script(_LIGHT)
            if width == PHONE[0] and page in MENU_PAGES:
                report["menu"] = _menu(browser)
            seen[page, width] = report
        return seen[page, width]

    return read


@pytest.mark.parametrize("page, width", _by_page_and_width(PAGES))
def test_page_loads_offline_without_errors_and_renders_maths(visit, server, page, width):
    report = visit(page, width)
    assert not report["errors"], f"console errors on {page}: {report['errors']}"
    external = [name for name in report["resources"] if not name.startswith(server)]
    assert not external, f"{page} fetched from outside the site: {external}"
    if _has_maths(page):
        assert report["typeset"] > 0, f"no maths rendered by MathJax on {page}"
        raw = report["untypeset"]
        assert raw == 0, f"{raw} maths elements left untypeset on {page}"


@pytest.mark.parametrize("page, width", _by_page_and_width(PAGES))
def test_axe_finds_no_serious_or_critical_violation(visit, page, width):
    problems = []
    for mode, found in visit(page, width)["axe"].items():
        if not isinstance(found, list):
            problems.append(f"axe-core failed in {mode} mode: {found}")
            continue
        for violation in found:
            if violation["impact"] in FAILING_IMPACTS:
                examples = "; ".join(
                    f"{node['target']} ({node['summary'][:160]})" for node in violation["nodes"][:3]
                )
                problems.append(
                    f"{mode} mode: {violation['id']} ({violation['impact']}: {violation['help']}) "
                    f"on {len(violation['nodes'])} element(s), e.g. {examples}"
                )
    assert not problems, f"{page} at {width} px:\n" + "\n".join(f"  {p}" for p in problems)


@pytest.mark.parametrize("page, width", _by_page_and_width(PAGES))
def test_what_scrolls_sideways_shows_a_cue(visit, page, width):
    """Equations, tables, model summaries, code: all that is wider than its box scrolls, with
    a fade on the side where content is hidden and a scrollbar; nothing is cut off."""
    scrolling = visit(page, width)["scrolling"]
    problems = [
        f"scrolls without its cue: {s['label']} ({s['content']} px in {s['box']} px; fade at "
        f"the right {s['start']}, at the left once scrolled {s['end']}, "
        f"scrollbar {s['scrollbar']}): {s['text']!r}"
        for s in scrolling["scrolls"]
        if not (s["start"] and s["end"] and s["scrollbar"])
    ]
    problems += [
        f"scrolls outside the article: {s['label']}: {s['text']!r}"
        for s in scrolling["scrolls"]
        if not s["inside"]
    ]
    problems += [f"cut off by {c['by']} px: {c['label']}: {c['text']!r}" for c in scrolling["cut"]]
    if scrolling["page"] > 0:
        problems.append(f"the page itself scrolls sideways by {scrolling['page']} px")
    assert not problems, f"{page} at {width} px:\n" + "\n".join(f"  {p}" for p in problems)


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_figures_are_present(visit, page):
    expected = _image_outputs(page)
    loaded = visit(page)["figures_loaded"]
    assert loaded == expected, f"{page}: {loaded} figures shown, {expected} stored"


@pytest.mark.parametrize("page, width", _by_page_and_width(NOTEBOOK_PAGES))
def test_figure_text_is_readable(visit, site, page, width):
    """The smallest text a figure holds (utils.plots.MIN_FONT_PT, checked by
    tests/test_figures.py) at the PNG's dpi, at the scale the page shows the PNG."""
    from utils.plots import MIN_FONT_PT

    small = []
    for figure in visit(page, width)["figures"]:
        with Image.open((site / page).parent / figure["src"]) as image:
            dpi = image.info.get("dpi", (100, 100))[0]
        text_px = MIN_FONT_PT * dpi / 72 * figure["shown"] / figure["natural"]
        if text_px < MIN_FIGURE_TEXT_PX[width] - 0.05:
            small.append(
                f"  {figure['src']}: {figure['natural']} px shown at {figure['shown']:.0f} px, "
                f"its {MIN_FONT_PT} pt text {text_px:.1f} px tall"
            )
    assert not small, (
        f"{page} at {width} px: figure text below {MIN_FIGURE_TEXT_PX[width]} px:\n"
        + "\n".join(small)
    )


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_colab_link_opens_this_notebook(visit, page):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    links = visit(page)["colab_links"]
    expected = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{page}.ipynb"
    assert links == [expected] or set(links) == {expected}, links


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_download_button_serves_the_notebook(visit, page):
    links = visit(page)["download_links"]
    assert links and all(link.endswith(f"_sources/{page}.ipynb") for link in links), links
    import urllib.request

    with urllib.request.urlopen(links[0]) as response:
        notebook = nbformat.reads(response.read().decode("utf-8"), as_version=4)
    assert notebook.cells == nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells


def _chapter_number(page: str) -> int:
    return int(Path(page).name[:2])


def _menu_problems(menu: dict) -> list[str]:
    if menu["before"]:
        return ["the navigation is open before the menu button is pressed"]
    if not menu["menu"]:
        return ["no visible menu button"]
    if menu["opened"] < len(PAGES) - 1:
        return [f"the menu button did not open the navigation ({menu['opened']} links shown)"]
    if not menu["close"]:
        return ["no visible close button in the open menu"]
    if "covered" in menu:
        return [f"the close button is covered: {menu['covered']}"]
    problems = [] if menu["close_first"] else ["the close button is not the menu's first control"]
    if not menu["closed"]:
        return [*problems, "the close button did not close the menu"]
    if not menu["focus_on_menu"]:
        problems.append("the focus did not return to the menu button")
    if menu["tooltips"]:
        problems.append(f"tooltips left over the header: {menu['tooltips']}")
    return problems


@pytest.mark.parametrize("page", MENU_PAGES)
def test_phone_menu_opens_and_closes_with_its_buttons(visit, page):
    problems = _menu_problems(visit(page, PHONE[0])["menu"])
    assert not problems, f"{page} at {PHONE[0]} px:\n" + "\n".join(problems)


def test_menu_at_a_tablet_width(browser, server):
    # The one page load of its own in this file: at 800 px the theme's layout is in between.
    browser.set_window_size(*TABLET)
    try:
        _open(browser, f"{server}/{PAGES[0]}.html")
        problems = _menu_problems(_menu(browser))
    finally:
        browser.set_window_size(*DESKTOP)
    assert not problems, f"{PAGES[0]} at {TABLET[0]} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_title_leaves_the_first_phone_screen_to_the_text(visit, page):
    report = visit(page, PHONE[0])
    share = report["title_height"] / report["viewport_height"]
    assert share <= 0.25, f"{page} at {PHONE[0]} px: the title fills {share:.0%} of the screen"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_no_output_is_wider_than_the_article(visit, page):
    report = visit(page)["wide_outputs"]
    lines = [
        f"  code cell {w['cell']} of the page: {w['width']} px; input {w['input']!r}; "
        f"output {w['output']!r}"
        for w in report["wide"]
    ]
    lines += [
        f"  code cell {w['cell']}: text {w['content']} px in its {w['box']} px box; "
        f"input {w['input']!r}; output {w['output']!r}"
        for w in report["over"]
    ]
    assert not lines, (
        f"{page}: outputs wider than the article or their box (article {report['width']} px "
        "at 1280 px):\n" + "\n".join(lines)
    )


_FILE_NAME = re.compile(r"^[\w.\-/ ]*\.(png|jpe?g|gif|svg|webp)$|^[0-9a-f]{16,}$", re.IGNORECASE)


@pytest.mark.parametrize("page", PAGES)
def test_every_image_has_real_alt_text(visit, page):
    images = visit(page)["images"]
    bad = [
        f"  {src}: alt {alt!r}"
        for src, alt in images
        if alt is None or not alt.strip() or _FILE_NAME.match(alt.strip())
    ]
    assert not bad, f"{page}: images without alt text saying what they show:\n" + "\n".join(bad)


def _html(site: Path, page: str) -> str:
    return (site / f"{page}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("chapter, solution", PAIRS)
def test_exercise_and_solution_pages_have_distinct_titles(site, chapter, solution):
    # Read from the built HTML: a test that visited two pages would load one of them a second
    # time on the other worker (tests/conftest.py groups the tests by their first page).
    def title(page: str) -> str:
        return html.unescape(re.search(r"<title>(.*?)</title>", _html(site, page), re.S).group(1))

    chapter_title, solution_title = title(chapter), title(solution)
    assert "(exercises)" in chapter_title, chapter_title
    assert "(solutions)" in solution_title, solution_title
    assert chapter_title.replace("(exercises)", "(solutions)") == solution_title
    # The navigation names the two pages differently too (links relative to the solution page).
    navigation = _html(site, solution).split('class="bd-links bd-docs-nav"', 1)[1]
    links = re.findall(
        r'<a class="[^"]*reference internal[^"]*" href="([^"]*)">([^<]+)</a>', navigation
    )
    folder = posixpath.dirname(solution)
    # The page's own entry links to "#".
    names = {
        (f"{solution}.html" if href == "#" else posixpath.normpath(posixpath.join(folder, href))): (
            html.unescape(name).strip()
        )
        for href, name in links
    }
    assert names[f"{chapter}.html"] != names[f"{solution}.html"], names


_BOOK_WIDE = re.compile(r"\b(?:Exercise|Solution to Exercise) \d+(?![.\d])")


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_exercises_are_numbered_per_chapter(visit, page):
    chapter = _chapter_number(page)
    text = visit(page)["text"]
    assert not _BOOK_WIDE.findall(text), f"{page}: book-wide numbers {_BOOK_WIDE.findall(text)}"
    titles = visit(page)["admonition_titles"]
    exercises = [t for t in titles if t.startswith("Exercise")]
    solutions = [t for t in titles if t.startswith("Solution")]
    wrong = [t for t in exercises if not t.startswith(f"Exercise {chapter}.")]
    wrong += [t for t in solutions if not t.startswith(f"Solution to Exercise {chapter}.")]
    assert not wrong, f"{page}: titles not numbered as chapter {chapter}: {wrong}"
    numbers = [re.match(r"Exercise \d+\.(\d+)", t).group(1) for t in exercises]
    assert numbers == [str(k) for k in range(1, len(numbers) + 1)], f"{page}: {exercises}"
    if page.startswith("solutions/"):
        # Each drop-down names an exercise of this page, by its number and title.
        assert solutions, f"{page}: no solution drop-downs"
        answered = {t.removeprefix("Solution to ").removesuffix(" (continued)") for t in solutions}
        assert answered <= set(exercises), solutions


# Parametrized by its page so that conftest.py puts it with that page's other tests.
@pytest.mark.parametrize("page", [p for p in NOTEBOOK_PAGES if p.startswith("chapters/02")])
def test_chapter_2_starts_with_exercise_2_1(visit, page):
    first = visit(page)["first_exercise_title"]
    assert first is not None and first.startswith("Exercise 2.1"), first


def test_solutions_part_opens_with_the_about_page(site):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    solutions = next(part for part in toc["parts"] if part["caption"].startswith("Solutions"))
    assert solutions["chapters"][0]["file"] == "solutions/about"
    last_chapter = [p for p in PAGES if p.startswith("chapters/")][-1]
    page = (site / f"{last_chapter}.html").read_text(encoding="utf-8")
    following = re.search(r'class="right-next"\s+href="([^"]+)"', page)
    assert following and following.group(1).endswith("solutions/about.html"), following
