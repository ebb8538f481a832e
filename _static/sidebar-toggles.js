/*
 * The menu buttons of the page header work at every width.
 *
 * pydata-sphinx-theme (0.17) and sphinx-book-theme (1.3) bind their handlers to the FIRST
 * `.primary-toggle` / `.secondary-toggle` of the page (document.querySelector). With
 * sphinx-book-theme that first button sits in pydata's navbar, which is hidden, so the
 * visible buttons in the article header do nothing: on a phone the navigation never opens.
 * Each other button forwards its click to the first one, which runs the themes' own
 * handlers (a modal sidebar on narrow screens, collapsing the sidebar on wide ones).
 */
(function () {
  function forward(selector) {
    const buttons = document.querySelectorAll(selector);
    if (buttons.length < 2) {
      return;
    }
    const bound = buttons[0];
    buttons.forEach((button, index) => {
      if (index === 0) {
        return;
      }
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    });
  }

  function setup() {
    forward(".primary-toggle");
    forward(".secondary-toggle");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
