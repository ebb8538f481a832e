"""Build the book with warnings as errors, then open every page in headless Chromium."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
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


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if not (ROOT / "_mathjax" / "mathjax" / "tex-chtml.js").exists():
        pytest.fail("MathJax is not in _mathjax/mathjax: run `make mathjax` (make test does).")
    out = tmp_path_factory.mktemp("book")
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--path-output",
        str(out),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-5000:]}\n{result.stderr}"
    return out / "_build" / "html"


def test_build_has_every_page(site):
    for page in PAGES:
        assert (site / f"{page}.html").is_file(), page
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


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
          if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
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


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_without_errors_and_renders_maths(browser, server, page):
    _open(browser, f"{server}/{page}.html")
    # Chromium asks every site for /favicon.ico by itself; that 404 is not the page's error.
    errors = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]
    assert not errors, f"console errors on {page}: {errors}"
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
    )
    external = [name for name in resources if not name.startswith(server)]
    assert not external, f"{page} fetched from outside the site: {external}"
    if _has_maths(page):
        rendered = browser.execute_script(
            "return document.querySelectorAll('mjx-container').length"
        )
        assert rendered > 0, f"no maths rendered by MathJax on {page}"
        raw = browser.execute_script(
            "return Array.from(document.querySelectorAll('.math')).filter("
            "e => !e.querySelector('mjx-container')).length"
        )
        assert raw == 0, f"{raw} maths elements left untypeset on {page}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_figures_are_present(browser, server, page):
    expected = _image_outputs(page)
    _open(browser, f"{server}/{page}.html")
    loaded = browser.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output img'))"
        ".filter(img => img.complete && img.naturalWidth > 0).length"
    )
    assert loaded == expected, f"{page}: {loaded} figures shown, {expected} stored"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_colab_link_opens_this_notebook(browser, server, page):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    _open(browser, f"{server}/{page}.html")
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a')).map(a => a.href)"
        ".filter(h => h.includes('colab.research.google.com'))"
    )
    expected = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{page}.ipynb"
    assert links == [expected] or set(links) == {expected}, links


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_download_button_serves_the_notebook(browser, server, page):
    _open(browser, f"{server}/{page}.html")
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a.btn-download-source-button'))"
        ".map(a => a.href)"
    )
    assert links and all(link.endswith(f"_sources/{page}.ipynb") for link in links), links
    import urllib.request

    with urllib.request.urlopen(links[0]) as response:
        notebook = nbformat.reads(response.read().decode("utf-8"), as_version=4)
    assert notebook.cells == nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells
