/*
 * What scrolls sideways shows that it continues, and text outputs fit the article.
 *
 * Scroll cues. In the article, an element scrolls sideways when its content is wider than
 * its box and its overflow-x is auto or scroll: display equations (MathJax's mjx-container),
 * tables (in the theme's scroll container), code and outputs. Each such element gets the
 * class `course-scrolls`, and `course-more-left` / `course-more-right` while some of its
 * content is hidden on that side; course.css then fades that edge and keeps a scrollbar.
 * The classes follow the scroll position, the window's width and content that changes size
 * later (MathJax typesetting, a drop-down opened): the article's size changes with all of
 * these, and a ResizeObserver on it runs the scan again. Each one can take the keyboard's
 * focus, so that it scrolls with the arrow keys.
 *
 * Outputs that fit. A text output a little wider than its box (an 80-column line in a
 * drop-down at 1280 px) is set in the font size that fits it, down to MIN_OUTPUT_FONT_PX;
 * a wider one keeps its size and scrolls, with its cue.
 */
(function () {
  "use strict";

  const MIN_OUTPUT_FONT_PX = 12;
  const scrolling = new Set();

  function overflowsSideways(element) {
    return element.scrollWidth > element.clientWidth + 1;
  }

  function updateEdges(element) {
    const left = element.scrollLeft;
    element.classList.toggle("course-more-left", left > 1);
    element.classList.toggle(
      "course-more-right",
      left + element.clientWidth < element.scrollWidth - 1,
    );
  }

  function onScroll(event) {
    updateEdges(event.currentTarget);
  }

  function fitOutputs(article) {
    article.querySelectorAll(".cell_output pre").forEach((pre) => {
      pre.style.fontSize = "";
      if (pre.clientWidth === 0 || !overflowsSideways(pre)) {
        return; // hidden (a closed drop-down) or fits already
      }
      const style = getComputedStyle(pre);
      const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      let size = parseFloat(style.fontSize);
      // Monospace text scales with its font size; a step of 0.1 px more per pass settles
      // the rounding of glyph widths.
      const ratio = (pre.clientWidth - padding) / (pre.scrollWidth - padding);
      size = Math.floor(size * ratio * 10) / 10;
      while (size >= MIN_OUTPUT_FONT_PX) {
        pre.style.fontSize = `${size}px`;
        if (!overflowsSideways(pre)) {
          return;
        }
        size = Math.round((size - 0.1) * 10) / 10;
      }
      pre.style.fontSize = "";
    });
  }

  function scan() {
    const article = document.querySelector("article.bd-article");
    if (!article) {
      return;
    }
    fitOutputs(article);
    const now = new Set();
    article.querySelectorAll("*").forEach((element) => {
      if (!overflowsSideways(element)) {
        return;
      }
      const overflow = getComputedStyle(element).overflowX;
      if (overflow === "auto" || overflow === "scroll") {
        now.add(element);
      }
    });
    scrolling.forEach((element) => {
      if (!now.has(element)) {
        element.classList.remove("course-scrolls", "course-more-left", "course-more-right");
        element.removeEventListener("scroll", onScroll);
        if ("courseTabStop" in element.dataset) {
          const before = element.dataset.courseTabStop;
          if (before === "none") {
            element.removeAttribute("tabindex");
          } else {
            element.setAttribute("tabindex", before);
          }
          delete element.dataset.courseTabStop;
        }
        scrolling.delete(element);
      }
    });
    now.forEach((element) => {
      if (!scrolling.has(element)) {
        element.classList.add("course-scrolls");
        element.addEventListener("scroll", onScroll, { passive: true });
        // A keyboard reader scrolls it with the arrow keys once it has the focus. The theme
        // does this at load, and gives tabindex -1 to what does not scroll then: code in a
        // closed drop-down, which scrolls once the drop-down is open.
        if (element.tabIndex < 0) {
          element.dataset.courseTabStop = element.getAttribute("tabindex") ?? "none";
          element.tabIndex = 0;
        }
        scrolling.add(element);
      }
      updateEdges(element);
    });
    document.documentElement.dataset.courseScrollCues = "ready";
  }

  let pending = false;
  function scheduleScan() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        scan();
      });
    }
  }

  // phone-figures.js asks for a scan when it lets a figure scroll.
  window.courseScrollCues = { schedule: scheduleScan };

  function setup() {
    scan();
    const article = document.querySelector("article.bd-article");
    if (article && "ResizeObserver" in window) {
      new ResizeObserver(scheduleScan).observe(article);
    }
    window.addEventListener("resize", scheduleScan);
    window.addEventListener("load", scheduleScan);
    // Opening a <details> drop-down changes what is laid out inside it.
    document.addEventListener("toggle", scheduleScan, true);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
