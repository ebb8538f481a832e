/*
 * Figures keep readable text on a phone.
 *
 * The course's figures are drawn about 700 px wide with text of at least 10 pt, 14 px
 * (utils/plots.py). The theme shrinks an image to its box: on a 390 px phone that is half
 * its size or less, and the heatmaps' numbers ended up about 6 px tall. Here a figure is
 * never shown below MIN_SCALE of its size (its text stays >= 9 px); a figure that is then
 * wider than its box scrolls sideways inside it, and scroll-cues.js gives that box its cue.
 * On a wide screen the figure fits its box at 0.9 or more of its size and nothing changes.
 * The layout is redone when the article changes size (a turned phone, a drop-down opened).
 */
(function () {
  "use strict";

  const MIN_SCALE = 0.65;

  function layOut() {
    const article = document.querySelector("article.bd-article");
    if (!article) {
      return;
    }
    let changed = false;
    article.querySelectorAll("div.cell_output > img").forEach((img) => {
      const box = img.parentElement;
      if (!img.naturalWidth || box.clientWidth === 0) {
        return; // not loaded yet, or in a closed drop-down
      }
      const smallest = Math.ceil(img.naturalWidth * MIN_SCALE);
      const scrolls = smallest > box.clientWidth;
      if (box.classList.contains("course-wide-figure") !== scrolls) {
        changed = true;
      }
      img.style.minWidth = scrolls ? `${smallest}px` : "";
      img.style.maxWidth = scrolls ? "none" : "";
      box.classList.toggle("course-wide-figure", scrolls);
    });
    // A box that starts or stops scrolling does not change the article's size, which is what
    // scroll-cues.js watches.
    if (changed && window.courseScrollCues) {
      window.courseScrollCues.schedule();
    }
  }

  let pending = false;
  function schedule() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        layOut();
      });
    }
  }

  function setup() {
    layOut();
    const article = document.querySelector("article.bd-article");
    if (article && "ResizeObserver" in window) {
      new ResizeObserver(schedule).observe(article);
    }
    window.addEventListener("resize", schedule);
    window.addEventListener("load", schedule);
    document.addEventListener("toggle", schedule, true);
    document.querySelectorAll("article div.cell_output > img").forEach((img) => {
      img.addEventListener("load", schedule);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
