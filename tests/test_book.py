"""Build the book with warnings as errors, then read every page in headless Chromium.

`test_reading_the_page` opens each page once at 1280 x 900 and once at 390 x 844 (a phone),
measures everything in that one visit, and reports every problem it finds:

- at both widths: no console errors, nothing fetched from outside the site, maths typeset;
  axe-core (the npm package pinned in .ci/install-browser) finds no serious or critical
  violation of the WCAG 2.1 A/AA rules in light mode, nor of its colour rules after the
  colour-mode button switched the page to dark in place (the other rules read the DOM,
  which the mode does not change); every element that scrolls sideways (equations,
  tables, code, outputs) shows its cue at the side where content is hidden and stays inside
  the article, nothing is cut off by a box that does not scroll, the page itself does not
  scroll sideways; every figure is shown, its smallest text (utils.plots.MIN_FONT_PT at the
  PNG's dpi, at the scale shown) at least 10 px at 1280 px and 9 px on the phone;
- at 1280 px: real alt text, every text output fits its box, the Colab and download links,
  exercise titles numbered per chapter;
- at 390 px: the chapter title leaves most of the first screen to the text, and (on two
  pages, and at 800 px in `test_menu_at_a_tablet_width`) the menu button opens the
  navigation and the close button in it closes it, the focus back on the menu button and no
  tooltip left over the header.

Drop-downs (solutions, hidden code) are opened before anything is measured, so that their
content is checked as a reader who opens them sees it. One test per page and width keeps
each visit to one page load however pytest-xdist deals the tests out (axe-core keeps a core
busy for seconds on a long page). The tests without a browser read the built HTML.
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
import urllib.request
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

DESKTOP = 1280
PHONE = 390
TABLET = 800
HEIGHTS = {DESKTOP: 900, PHONE: 844, TABLET: 844}
# Figures: text of utils.plots.MIN_FONT_PT points at the PNG's dpi, shown at the page's scale,
# must be at least this tall (CSS px).
MIN_FIGURE_TEXT_PX = {PHONE: 9.0, DESKTOP: 10.0}


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
# The phone menu is tried on a page without and a page with a notebook.
MENU_PAGES = (PAGES[0], NOTEBOOK_PAGES[0])


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
    intro = (site / f"{PAGES[0]}.html").read_text(encoding="utf-8")
    icon = re.search(r'<link rel="icon" href="([^"]+)"', intro)
    assert icon, "no <link rel=icon>: browsers then ask for /favicon.ico, a 404"
    assert (site / icon.group(1)).is_file(), icon.group(1)


def test_no_terminal_colours_reach_the_pages(site):
    # Keras's model summaries are stored as rich's coloured <pre> and as text with ANSI codes;
    # _ext/book_fixes.py shows the text, without its codes (a cyan "None" was 1.6:1).
    for page in NOTEBOOK_PAGES:
        html = (site / f"{page}.html").read_text(encoding="utf-8")
        assert "\x1b" not in html and "&#27;" not in html, page
        styled = re.findall(r'class="output text_html">\s*<pre[^>]*>.{0,80}', html)
        assert not styled, f"{page}: terminal-styled outputs {styled[:2]}"


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


def _start_browser(profile: Path):
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
        f"--window-size={DESKTOP},{HEIGHTS[DESKTOP]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(180)  # axe-core on the longest page, on a busy machine
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.fail("headless browser tests need Debian's chromium and chromium-driver (.ci/run)")
    driver = _start_browser(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


# ------------------------------------------------------------------ the measurements (JS)

# Resolves once MathJax has typeset the page (it loads from the site, not a CDN) and
# scroll-cues.js has scanned the result (two frames after the last change).
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

_OPEN_DROPDOWNS = """
const done = arguments[arguments.length - 1];
document.querySelectorAll('.toggle-hidden button.toggle-button').forEach(b => {
  if (b.closest('.toggle').classList.contains('toggle-hidden')) b.click(); });
document.querySelectorAll('article details').forEach(d => { d.open = true; });
setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))), 300);
"""

_NO_TRANSITIONS = """
const style = document.createElement('style');
style.textContent = '*, *::before, *::after { transition: none !important; animation: none !important; }';
document.head.appendChild(style);
"""

_AXE = """
const [tags, colourOnly, done] = arguments;
const options = {resultTypes: ['violations']};
if (colourOnly) {
  const rules = axe.getRules(tags).filter(r => r.tags.includes('cat.color')).map(r => r.ruleId);
  options.runOnly = {type: 'rule', values: rules};
} else {
  options.runOnly = {type: 'tag', values: tags};
}
axe.run(document, options).then(result => done(result.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary || ''})),
})))).catch(error => done(String(error)));
"""

_SWITCH_MODE = """
const [wanted, done] = arguments;
const button = Array.from(document.querySelectorAll('.theme-switch-button'))
  .find(b => b.offsetParent !== null) || document.querySelector('.theme-switch-button');
for (let i = 0; i < 3 && document.documentElement.dataset.theme !== wanted; i++) button.click();
requestAnimationFrame(() => done(document.documentElement.dataset.theme));
"""

# Everything that scrolls sideways, and every box that cuts off what it holds.
_SCROLLING = """
const done = arguments[arguments.length - 1];
const article = document.querySelector('article.bd-article');
const area = article.getBoundingClientRect();
const label = e => (e.tagName.toLowerCase() + '.' + Array.from(e.classList).join('.')).slice(0, 60);
const text = e => e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60);
const scrolls = [], cut = [];
article.querySelectorAll('*').forEach(e => {
  if (e.scrollWidth <= e.clientWidth + 1 || e.closest('mjx-assistive-mml')) return;
  const style = getComputedStyle(e);
  if (style.overflowX === 'visible') return;
  if (style.overflowX === 'auto' || style.overflowX === 'scroll') {
    const box = e.getBoundingClientRect();
    scrolls.push({element: e, label: label(e), text: text(e), content: e.scrollWidth,
      box: e.clientWidth, mask: style.maskImage.includes('gradient'),
      right: e.classList.contains('course-more-right'),
      inside: box.left >= area.left - 1 && box.right <= area.right + 1});
    return;
  }
  // MathJax's own parts clip their stretchy pieces by design.
  if (e.tagName.startsWith('MJX-') && e.tagName !== 'MJX-CONTAINER') return;
  const box = e.getBoundingClientRect();
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
// At the far end, the cue moves to the other side.
scrolls.forEach(s => { s.element.scrollLeft = s.element.scrollWidth; });
requestAnimationFrame(() => requestAnimationFrame(() => {
  scrolls.forEach(s => {
    s.end = s.element.classList.contains('course-more-left')
      && !s.element.classList.contains('course-more-right');
    s.element.scrollLeft = 0;
    delete s.element;
  });
  done({scrolls: scrolls, cut: cut,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth});
}));
"""

_OUTPUTS = """
const article = document.querySelector('article.bd-article');
const wide = [];
Array.from(article.querySelectorAll('div.cell')).forEach((cell, index) => {
  cell.querySelectorAll('.cell_output').forEach(output => {
    [output, ...output.querySelectorAll('*')].forEach(e => {
      if (e.tagName === 'IMG' || e.clientWidth === 0) return;
      if (e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().width > article.clientWidth + 1) {
        const input = cell.querySelector('.cell_input pre');
        wide.push({cell: index + 1, content: e.scrollWidth, box: e.clientWidth,
          input: input ? input.textContent.trim().split('\\n')[0].slice(0, 60) : '',
          output: e.textContent.trim().split('\\n')[0].slice(0, 60)});
      }
    });
  });
});
return wide;
"""

_FIGURES = """
return Array.from(document.querySelectorAll('article .cell_output img')).map(img => ({
  src: img.getAttribute('src'), alt: img.getAttribute('alt'), loaded: img.complete,
  natural: img.naturalWidth, shown: img.getBoundingClientRect().width}));
"""

_PAGE_FACTS = """
const titles = Array.from(document.querySelectorAll('article .admonition-title'))
  .map(t => t.textContent.trim());
const h1 = document.querySelector('article h1');
return {
  text: document.querySelector('article').innerText,
  admonition_titles: titles,
  first_exercise: (document.querySelector('article .exercise .admonition-title') || {}).textContent,
  colab: Array.from(document.querySelectorAll('a')).map(a => a.href)
    .filter(h => h.includes('colab.research.google.com')),
  downloads: Array.from(document.querySelectorAll('a.btn-download-source-button')).map(a => a.href),
  images: Array.from(document.querySelectorAll('article img'))
    .map(img => [img.getAttribute('src'), img.getAttribute('alt')]),
  mjx: document.querySelectorAll('mjx-container').length,
  untypeset: Array.from(document.querySelectorAll('.math'))
    .filter(e => !e.querySelector('mjx-container')).length,
  h1_height: h1 ? h1.getBoundingClientRect().height : 0,
  viewport_height: window.innerHeight,
};
"""

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
let onTop = false;
if (close && visible(close)) {
  const r = close.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  onTop = !!top && (top === close || close.contains(top));
}
return {
  open: !!dialog && dialog.open, links: links, menu: menu, close: onTop ? close : null,
  close_first: !!close && dialog.querySelector('button, a[href], [tabindex]') === close,
  focus_on_menu: !!menu && document.activeElement === menu,
  tooltips: Array.from(document.querySelectorAll('.tooltip.show')).map(t => t.textContent.trim()),
};
"""

_PAUSE = "const done = arguments[arguments.length - 1]; setTimeout(() => done(true), arguments[0]);"


def _ready(browser) -> None:
    browser.execute_async_script(_READY)


def _visit(browser, server: str, axe: str, page: str, width: int) -> dict:
    """Load ``page`` at ``width`` and measure everything the tests assert about it."""
    browser.set_window_size(width, HEIGHTS[width])
    browser.get("about:blank")
    browser.get_log("browser")  # the previous page's messages are not this page's
    browser.get(f"{server}/{page}.html")
    _ready(browser)
    report: dict = {
        "errors": [e for e in browser.get_log("browser") if e["level"] == "SEVERE"],
        "resources": browser.execute_script(
            "return performance.getEntriesByType('resource').map(r => r.name)"
        ),
        "facts": browser.execute_script(_PAGE_FACTS),
    }
    # The theme animates colours: axe must see the end of the switch, not its middle.
    browser.execute_script(_NO_TRANSITIONS)
    browser.execute_async_script(_OPEN_DROPDOWNS)
    browser.execute_script(axe)
    report["axe"] = {"light": browser.execute_async_script(_AXE, AXE_TAGS, False)}
    report["dark_theme"] = browser.execute_async_script(_SWITCH_MODE, "dark")
    report["axe"]["dark"] = browser.execute_async_script(_AXE, AXE_TAGS, True)
    browser.execute_async_script(_SWITCH_MODE, "light")
    report["scrolling"] = browser.execute_async_script(_SCROLLING)
    report["outputs"] = browser.execute_script(_OUTPUTS)
    report["figures"] = browser.execute_script(_FIGURES)
    return report


def _menu(browser) -> dict:
    """Open the navigation with the menu button and close it with its close button, with the
    browser's own clicks (a reader's taps: real pointer events, the focus moved)."""
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
    result.update(opened=state["links"], close=state["close"], close_first=state["close_first"])
    if state["close"] is None:
        return result
    state["close"].click()
    # Bootstrap shows a tooltip 500 ms after the focus or the pointer reached its button.
    browser.execute_async_script(_PAUSE, 800)
    state = browser.execute_script(_MENU_STATE)
    result.update(
        closed=not state["open"], focus_on_menu=state["focus_on_menu"], tooltips=state["tooltips"]
    )
    return result


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


# ------------------------------------------------------------------ the checks of a visit
# Each returns the problems it finds, one line each, "" for none.


def _loading(report: dict, server: str, page: str) -> list[str]:
    problems = [f"console error: {error['message'][:300]}" for error in report["errors"]]
    external = [name for name in report["resources"] if not name.startswith(server)]
    if external:
        problems.append(f"fetched from outside the site: {external}")
    facts = report["facts"]
    if _has_maths(page) and facts["mjx"] == 0:
        problems.append("no maths rendered by MathJax")
    if facts["untypeset"]:
        problems.append(f"{facts['untypeset']} maths elements left untypeset")
    return problems


def _accessibility(report: dict) -> list[str]:
    if report["dark_theme"] != "dark":
        return [f"the colour-mode button did not switch to dark ({report['dark_theme']})"]
    problems = []
    for mode, found in report["axe"].items():
        if not isinstance(found, list):
            problems.append(f"axe-core failed in {mode} mode: {found}")
            continue
        for violation in found:
            if violation["impact"] not in FAILING_IMPACTS:
                continue
            examples = "; ".join(
                f"{node['target']} ({node['summary'].splitlines()[-1].strip()[:160]})"
                for node in violation["nodes"][:3]
            )
            problems.append(
                f"axe, {mode} mode: {violation['id']} ({violation['impact']}: "
                f"{violation['help']}) on {len(violation['nodes'])} element(s), e.g. {examples}"
            )
    return problems


def _scrolling(report: dict) -> list[str]:
    scrolling = report["scrolling"]
    problems = [
        f"scrolls without its cue: {s['label']} ({s['content']} px in {s['box']} px; fade at the "
        f"right {s['mask'] and s['right']}, at the left once scrolled {s['end']}): {s['text']!r}"
        for s in scrolling["scrolls"]
        if not (s["mask"] and s["right"] and s["end"])
    ]
    problems += [
        f"scrolls outside the article: {s['label']}: {s['text']!r}"
        for s in scrolling["scrolls"]
        if not s["inside"]
    ]
    problems += [f"cut off by {c['by']} px: {c['label']}: {c['text']!r}" for c in scrolling["cut"]]
    if scrolling["page"] > 0:
        problems.append(f"the page itself scrolls sideways by {scrolling['page']} px")
    return problems


def _figures(report: dict, site: Path, page: str, width: int) -> list[str]:
    from utils.plots import MIN_FONT_PT

    shown = [f for f in report["figures"] if f["loaded"] and f["natural"] > 0]
    problems = []
    if len(shown) != _image_outputs(page):
        problems.append(f"{len(shown)} figures shown, {_image_outputs(page)} stored")
    for figure in shown:
        with Image.open(site / page.rsplit("/", 1)[0] / figure["src"]) as image:
            dpi = image.info.get("dpi", (100, 100))[0]
        text_px = MIN_FONT_PT * dpi / 72 * figure["shown"] / figure["natural"]
        if text_px < MIN_FIGURE_TEXT_PX[width] - 0.05:
            problems.append(
                f"figure {figure['src']}: {figure['natural']} px shown at {figure['shown']:.0f} "
                f"px, its {MIN_FONT_PT} pt text at {text_px:.1f} px "
                f"(at least {MIN_FIGURE_TEXT_PX[width]} px)"
            )
    return problems


_FILE_NAME = re.compile(r"^[\w.\-/ ]*\.(png|jpe?g|gif|svg|webp)$|^[0-9a-f]{16,}$", re.IGNORECASE)


def _alt_text(report: dict) -> list[str]:
    return [
        f"image without alt text saying what it shows: {src}: alt {alt!r}"
        for src, alt in report["facts"]["images"]
        if alt is None or not alt.strip() or _FILE_NAME.match(alt.strip())
    ]


def _outputs_fit(report: dict) -> list[str]:
    return [
        f"output wider than its box: code cell {w['cell']} of the page: {w['content']} px in "
        f"{w['box']} px; input {w['input']!r}; output {w['output']!r}"
        for w in report["outputs"]
    ]


def _links(report: dict, page: str) -> list[str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    expected = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{page}.ipynb"
    problems = []
    colab = report["facts"]["colab"]
    if not (colab == [expected] or set(colab) == {expected}):
        problems.append(f"Colab links {colab}, expected {expected}")
    downloads = report["facts"]["downloads"]
    if not downloads or not all(link.endswith(f"_sources/{page}.ipynb") for link in downloads):
        return [*problems, f"download links {downloads}"]
    with urllib.request.urlopen(downloads[0]) as response:
        served = nbformat.reads(response.read().decode("utf-8"), as_version=4)
    if served.cells != nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells:
        problems.append(f"the download button serves another notebook than {page}.ipynb")
    return problems


_BOOK_WIDE = re.compile(r"\b(?:Exercise|Solution to Exercise) \d+(?![.\d])")


def _numbering(report: dict, page: str) -> list[str]:
    facts = report["facts"]
    chapter = int(Path(page).name[:2])
    problems = [f"book-wide exercise number: {m!r}" for m in _BOOK_WIDE.findall(facts["text"])]
    titles = facts["admonition_titles"]
    exercises = [t for t in titles if t.startswith("Exercise")]
    solutions = [t for t in titles if t.startswith("Solution")]
    wrong = [t for t in exercises if not t.startswith(f"Exercise {chapter}.")]
    wrong += [t for t in solutions if not t.startswith(f"Solution to Exercise {chapter}.")]
    if wrong:
        problems.append(f"titles not numbered as chapter {chapter}: {wrong}")
    numbers = [m.group(1) for t in exercises if (m := re.match(r"Exercise \d+\.(\d+)", t))]
    if numbers != [str(k) for k in range(1, len(numbers) + 1)]:
        problems.append(f"exercises not numbered 1, 2, ...: {exercises}")
    first = (facts["first_exercise"] or "").strip()
    if exercises and not first.startswith(f"Exercise {chapter}.1"):
        problems.append(f"the first exercise box is {first!r}, not exercise {chapter}.1")
    if page.startswith("solutions/"):
        # Each drop-down names an exercise of this page, by its number and title.
        answered = {t.removeprefix("Solution to ").removesuffix(" (continued)") for t in solutions}
        if not solutions:
            problems.append("no solution drop-downs")
        elif not answered <= set(exercises):
            problems.append(
                f"drop-downs for exercises not on the page: {answered - set(exercises)}"
            )
    return problems


def _title_height(report: dict) -> list[str]:
    facts = report["facts"]
    share = facts["h1_height"] / facts["viewport_height"]
    return [f"the title fills {share:.0%} of the first screen"] if share > 0.25 else []


def _menu_problems(menu: dict) -> list[str]:
    if menu["before"]:
        return ["the navigation is open before the menu button is pressed"]
    if not menu["menu"]:
        return ["no visible menu button"]
    if menu["opened"] < len(PAGES) - 1:
        return [f"the menu button did not open the navigation ({menu['opened']} links shown)"]
    if menu["close"] is None:
        return ["no visible close button in the open menu"]
    problems = [] if menu["close_first"] else ["the close button is not the menu's first control"]
    if not menu["closed"]:
        return [*problems, "the close button did not close the menu"]
    if not menu["focus_on_menu"]:
        problems.append("the focus did not return to the menu button")
    if menu["tooltips"]:
        problems.append(f"tooltips left over the header: {menu['tooltips']}")
    return problems


# ------------------------------------------------------------------ the tests with a browser


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("page", PAGES)
def test_reading_the_page(browser, server, axe_source, site, page, width):
    report = _visit(browser, server, axe_source, page, width)
    problems = _loading(report, server, page) + _accessibility(report) + _scrolling(report)
    if page in NOTEBOOK_PAGES:
        problems += _figures(report, site, page, width)
    if width == DESKTOP:
        problems += _alt_text(report)
        if page in NOTEBOOK_PAGES:
            problems += _outputs_fit(report) + _links(report, page) + _numbering(report, page)
    else:
        problems += _title_height(report)
        if page in MENU_PAGES:
            problems += _menu_problems(_menu(browser))
    assert not problems, f"{page} at {width} px:\n" + "\n".join(f"  {p}" for p in problems)


def test_menu_at_a_tablet_width(browser, server):
    browser.set_window_size(TABLET, HEIGHTS[TABLET])
    browser.get(f"{server}/{PAGES[0]}.html")
    _ready(browser)
    problems = _menu_problems(_menu(browser))
    assert not problems, f"{PAGES[0]} at {TABLET} px:\n" + "\n".join(problems)


# ------------------------------------------------------------------ the built HTML


def _html(site: Path, page: str) -> str:
    return (site / f"{page}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("chapter, solution", PAIRS)
def test_exercise_and_solution_pages_have_distinct_titles(site, chapter, solution):
    def title(page: str) -> str:
        return html.unescape(re.search(r"<title>(.*?)</title>", _html(site, page), re.S).group(1))

    chapter_title, solution_title = title(chapter), title(solution)
    assert "(exercises)" in chapter_title, chapter_title
    assert "(solutions)" in solution_title, solution_title
    assert chapter_title.replace("(exercises)", "(solutions)") == solution_title
    # The navigation names the two pages differently too (links relative to the solution page).
    navigation = _html(site, solution).split('class="bd-links bd-docs-nav"', 1)[1]
    links = re.findall(
        r'<a class="reference internal[^"]*" href="([^"#]*)">([^<]+)</a>', navigation
    )
    folder = posixpath.dirname(solution)
    names = {
        posixpath.normpath(posixpath.join(folder, href)): html.unescape(name).strip()
        for href, name in links
    }
    assert names[f"{chapter}.html"] != names[f"{solution}.html"], names


def test_solutions_part_opens_with_the_about_page(site):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    solutions = next(part for part in toc["parts"] if part["caption"].startswith("Solutions"))
    assert solutions["chapters"][0]["file"] == "solutions/about"
    last_chapter = [p for p in PAGES if p.startswith("chapters/")][-1]
    following = re.search(r'class="right-next"\s+href="([^"]+)"', _html(site, last_chapter))
    assert following and following.group(1).endswith("solutions/about.html"), following


# ------------------------------------------------------------------ the extension


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
