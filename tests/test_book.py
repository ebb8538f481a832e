"""Build the book with warnings as errors, then open every page in headless Chromium.

At 1280 px: no console errors, nothing fetched from outside the site, maths typeset,
figures shown with real alt text, no output wider than the article, Colab and download
links, exercise titles numbered per chapter and distinct exercise and solution pages. At
390 px and 800 px the menu button opens the navigation.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


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
    yield driver
    driver.quit()


def _open(browser, url: str) -> None:
    browser.get(url)
    # Wait until MathJax has typeset the page (it loads from the site, not a CDN).
    browser.set_script_timeout(30)
    browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const start = Date.now();
        (function wait() {
          if (!document.querySelector('script[src*="tex-chtml"]')) { done(true); }
          else if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            MathJax.startup.promise.then(() => done(true));
          } else if (Date.now() - start > 20000) { done(false); }
          else { setTimeout(wait, 100); }
        })();
        """
    )


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


# What the desktop tests read from a page, in one visit per page and worker (opening a page and
# waiting for MathJax takes seconds; eight tests read each page). The outputs' widths are
# measured last, after the solution drop-downs are opened, because that changes the page.
_READ_PAGE = """
const article = document.querySelector('article');
const names = {};
document.querySelectorAll('nav.bd-docs-nav a.reference').forEach(a => {
  names[new URL(a.href).pathname] = a.textContent.trim(); });
const first = document.querySelector('article .exercise .admonition-title');
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
  title: document.title,
  navigation_names: names,
  text: article ? article.innerText : '',
  admonition_titles: Array.from(document.querySelectorAll('article .admonition-title'))
    .map(t => t.textContent.trim()),
  first_exercise_title: first ? first.textContent.trim() : null,
};
"""

_OPEN_SOLUTIONS = (
    "document.querySelectorAll('.toggle-hidden button.toggle-button')"
    ".forEach(b => { if (b.closest('.toggle').classList.contains('toggle-hidden')) b.click(); });"
    "return new Promise(r => setTimeout(r, 300));"
)

_WIDE_OUTPUTS = """
const article = document.querySelector('article.bd-article');
const width = article.clientWidth;
const cells = Array.from(article.querySelectorAll('div.cell'));
const wide = [];
cells.forEach((cell, index) => {
  cell.querySelectorAll('.cell_output').forEach(output => {
    const widest = Math.max(
      ...[output, ...output.querySelectorAll('*')].map(e => e.scrollWidth));
    if (widest > width + 1) {
      const input = cell.querySelector('.cell_input pre');
      wide.push({
        cell: index + 1,
        width: widest,
        input: input ? input.textContent.trim().split('\\n')[0].slice(0, 60) : '',
        output: output.textContent.trim().split('\\n')[0].slice(0, 60),
      });
    }
  });
});
return {width: width, wide: wide};
"""


@pytest.fixture(scope="module")
def visit(browser, server):
    """``visit(page) -> dict``: what ``_READ_PAGE`` reads from the page at 1280 px, plus its
    console errors (``errors``) and outputs wider than the article (``wide_outputs``).

    Each page is opened once per module (per xdist worker); every test reads the same visit.
    """
    seen: dict[str, dict] = {}

    def read(page: str) -> dict:
        if page not in seen:
            browser.set_window_size(*DESKTOP)
            browser.get_log("browser")  # drop what earlier pages logged
            _open(browser, f"{server}/{page}.html")
            # Chromium asks every site for /favicon.ico by itself; that 404 is not the page's.
            errors = [
                entry
                for entry in browser.get_log("browser")
                if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
            ]
            report = browser.execute_script(_READ_PAGE)
            report["errors"] = errors
            # Solution drop-downs opened: their outputs are measured as a reader sees them.
            browser.execute_script(_OPEN_SOLUTIONS)
            report["wide_outputs"] = browser.execute_script(_WIDE_OUTPUTS)
            seen[page] = report
        return seen[page]

    return read


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_without_errors_and_renders_maths(visit, server, page):
    report = visit(page)
    assert not report["errors"], f"console errors on {page}: {report['errors']}"
    external = [name for name in report["resources"] if not name.startswith(server)]
    assert not external, f"{page} fetched from outside the site: {external}"
    if _has_maths(page):
        assert report["typeset"] > 0, f"no maths rendered by MathJax on {page}"
        raw = report["untypeset"]
        assert raw == 0, f"{raw} maths elements left untypeset on {page}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_figures_are_present(visit, page):
    expected = _image_outputs(page)
    loaded = visit(page)["figures_loaded"]
    assert loaded == expected, f"{page}: {loaded} figures shown, {expected} stored"


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


@pytest.fixture
def window(browser):
    """Resize the browser for one test (``window(390, 844)``); back to 1280 px after it."""

    def resize(width: int, height: int) -> None:
        browser.set_window_size(width, height)

    yield resize
    browser.set_window_size(*DESKTOP)


@pytest.mark.parametrize("width", [390, 800])
@pytest.mark.parametrize("page", [PAGES[0], NOTEBOOK_PAGES[0]])
def test_phone_menu_button_opens_the_navigation(browser, server, window, page, width):
    window(width, 844)
    _open(browser, f"{server}/{page}.html")
    # The menu button the reader sees (the theme also has a hidden one in its navbar).
    visible = browser.execute_script(
        "return Array.from(document.querySelectorAll('.primary-toggle')).filter(b => {"
        "  const r = b.getBoundingClientRect(); const s = getComputedStyle(b);"
        "  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'; })"
    )
    assert visible, f"{page} at {width} px: no visible menu button"
    navigation_shown = (
        "const d = document.getElementById('pst-primary-sidebar-modal');"
        "if (!d || !d.open) return 0;"
        "return Array.from(d.querySelectorAll('nav a')).filter(a => {"
        "  const r = a.getBoundingClientRect();"
        "  return r.width > 0 && r.height > 0 && r.right > 0 && r.left < window.innerWidth; }).length;"
    )
    assert browser.execute_script(navigation_shown) == 0, "navigation open before the click"
    visible[0].click()
    shown = 0
    for _ in range(20):
        shown = browser.execute_script(navigation_shown)
        if shown:
            break
        browser.execute_script("return new Promise(r => setTimeout(r, 100))")
    assert shown >= len(PAGES) - 1, (
        f"{page} at {width} px: the menu button did not open the navigation ({shown} links visible)"
    )
    browser.execute_script("document.getElementById('pst-primary-sidebar-modal').close()")


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_no_output_is_wider_than_the_article(visit, page):
    report = visit(page)["wide_outputs"]
    lines = [
        f"  code cell {w['cell']} of the page: {w['width']} px; input {w['input']!r}; "
        f"output {w['output']!r}"
        for w in report["wide"]
    ]
    assert not lines, (
        f"{page}: outputs wider than the article ({report['width']} px at 1280 px):\n"
        + "\n".join(lines)
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


@pytest.mark.parametrize("chapter, solution", PAIRS)
def test_exercise_and_solution_pages_have_distinct_titles(visit, chapter, solution):
    chapter_title = visit(chapter)["title"]
    solution_title = visit(solution)["title"]
    assert "(exercises)" in chapter_title, chapter_title
    assert "(solutions)" in solution_title, solution_title
    assert chapter_title.replace("(exercises)", "(solutions)") == solution_title
    # The navigation names the two pages differently too.
    names = visit(solution)["navigation_names"]
    by_page = {
        path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]: n for path, n in names.items()
    }
    assert by_page[f"{chapter}.html"] != by_page[f"{solution}.html"], by_page


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


def test_chapter_2_starts_with_exercise_2_1(visit):
    page = next(p for p in NOTEBOOK_PAGES if p.startswith("chapters/02"))
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


MATHS_PAGES = [page for page in PAGES if _has_maths(page)]


@pytest.mark.parametrize("page", MATHS_PAGES)
def test_display_equations_fit_or_scroll_with_a_cue(browser, server, window, page):
    window(390, 844)
    _open(browser, f"{server}/{page}.html")
    equations = browser.execute_script(
        """
        const article = document.querySelector('article.bd-article').getBoundingClientRect();
        return Array.from(document.querySelectorAll('article div.math')).map(e => {
          const style = getComputedStyle(e);
          const box = e.getBoundingClientRect();
          return {
            text: e.textContent.trim().slice(0, 50),
            overflow: style.overflowX,
            cue: style.backgroundImage.includes('gradient'),
            scrolls: e.scrollWidth > e.clientWidth + 1,
            inside: box.left >= article.left - 1 && box.right <= article.right + 1,
          };
        });
        """
    )
    bad = [
        f"  {e['text']!r}: overflow-x {e['overflow']}, cue {e['cue']}, inside {e['inside']}"
        for e in equations
        if not (e["overflow"] in ("auto", "scroll") and e["cue"] and e["inside"])
    ]
    assert not bad, f"{page} at 390 px: display equations that neither fit nor scroll:\n" + (
        "\n".join(bad)
    )
