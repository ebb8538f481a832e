/*
 * The menu buttons of the page header work at every width, and the phone menu closes.
 *
 * pydata-sphinx-theme (0.17) and sphinx-book-theme (1.3) bind their handlers to the FIRST
 * `.primary-toggle` / `.secondary-toggle` of the page (document.querySelector). With
 * sphinx-book-theme that first button sits in pydata's navbar, which is hidden, so the
 * visible buttons in the article header do nothing: on a phone the navigation never opens.
 * Each other button forwards its click to the first one, which runs the themes' own
 * handlers (a modal sidebar on narrow screens, collapsing the sidebar on wide ones).
 *
 * On a narrow screen the navigation opens as a modal <dialog> that covers the menu button,
 * and the themes give it no close control (only Escape and a tap beside it). Each sidebar
 * gets a close button at its top, shown only inside the dialog: the first thing a keyboard
 * reaches there, and the control a phone reader sees.
 *
 * Tooltips: the themes' Bootstrap tooltips open on hover and on focus. When the dialog
 * closes, the theme gives the focus back to the menu button, and its tooltip then stayed
 * over the header icons. A tooltip now opens on focus only when the focus is visible
 * (keyboard use, :focus-visible), tooltips are hidden whenever a sidebar dialog opens or
 * closes, and on touch screens (no hover) there are none: every button has a name of its own.
 */
(function () {
  "use strict";

  const DIALOGS = [
    ["pst-primary-sidebar-modal", "pst-primary-sidebar", "Close the navigation"],
    ["pst-secondary-sidebar-modal", "pst-secondary-sidebar", "Close the contents of this page"],
  ];

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

  function tooltipOf(element) {
    return window.bootstrap && window.bootstrap.Tooltip
      ? window.bootstrap.Tooltip.getInstance(element)
      : null;
  }

  function hideTooltips() {
    document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((element) => {
      const tooltip = tooltipOf(element);
      if (tooltip) {
        tooltip.hide();
      }
    });
  }

  function addCloseButtons() {
    DIALOGS.forEach(([dialogId, sidebarId, label]) => {
      const dialog = document.getElementById(dialogId);
      const sidebar = document.getElementById(sidebarId);
      if (!dialog || !sidebar) {
        return;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "course-close-sidebar";
      button.setAttribute("aria-label", label);
      button.innerHTML = '<span class="fa-solid fa-xmark" aria-hidden="true"></span>';
      button.addEventListener("click", () => dialog.close());
      // The theme moves the sidebar's children into the dialog when it opens it, and back
      // when it closes: the button travels with them, first.
      sidebar.prepend(button);
      dialog.addEventListener("close", hideTooltips);
      new MutationObserver(() => {
        if (dialog.open) {
          hideTooltips();
        }
      }).observe(dialog, { attributes: true, attributeFilter: ["open"] });
    });
  }

  function tameTooltips() {
    // Bootstrap listens for focusin on each button; stop it before it gets there unless the
    // focus is visible.
    document.addEventListener(
      "focusin",
      (event) => {
        const target = event.target;
        if (
          target instanceof Element &&
          target.matches('[data-bs-toggle="tooltip"]') &&
          !target.matches(":focus-visible")
        ) {
          event.stopPropagation();
        }
      },
      true,
    );
    if (window.matchMedia("(hover: none)").matches) {
      window.addEventListener("load", () => {
        document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((element) => {
          const tooltip = tooltipOf(element);
          if (tooltip) {
            tooltip.dispose();
          }
        });
      });
    }
  }

  function setup() {
    forward(".primary-toggle");
    forward(".secondary-toggle");
    addCloseButtons();
    tameTooltips();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
