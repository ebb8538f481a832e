/*
 * On a phone, figures use the whole width of the screen.
 *
 * The course's figures are drawn about 700 px wide (utils/plots.py), with text of 12.5 pt,
 * 17 px. In the article of a 390 px phone, 343 px wide, less inside a solution drop-down,
 * they would show at half their size or less, their text below 9 px. Below PHONE_MAX_PX,
 * a figure wider than its box is shown edge to edge instead, as wide as the screen (never
 * wider than its own size), wherever it sits: about 0.53 of its size, text about 9.3 px.
 * The layout is redone when the article changes size (a turned phone, a drop-down opened).
 */
(function () {
  "use strict";

  const PHONE_MAX_PX = 575;

  function layOut() {
    const article = document.querySelector("article.bd-article");
    if (!article) {
      return;
    }
    const screen = document.documentElement.clientWidth;
    article.querySelectorAll(".course-lets-figures-out").forEach((box) => {
      box.classList.remove("course-lets-figures-out");
    });
    article.querySelectorAll("div.cell_output > img").forEach((img) => {
      img.classList.remove("course-edge-to-edge");
      img.style.width = "";
      img.style.marginLeft = "";
      const box = img.parentElement.getBoundingClientRect();
      if (window.innerWidth > PHONE_MAX_PX || box.width === 0 || !img.naturalWidth) {
        return; // a wide screen, a closed drop-down, or not loaded yet
      }
      if (img.naturalWidth <= box.width) {
        return;
      }
      const width = Math.min(screen, img.naturalWidth);
      img.classList.add("course-edge-to-edge");
      img.style.width = `${width}px`;
      img.style.marginLeft = `${(screen - width) / 2 - box.left}px`;
      // Boxes that clip what sticks out of them (the theme's admonitions, which hold the
      // solution drop-downs) let the figure out.
      for (let box = img.parentElement; box && box !== article; box = box.parentElement) {
        if (getComputedStyle(box).overflowX !== "visible") {
          box.classList.add("course-lets-figures-out");
        }
      }
    });
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
