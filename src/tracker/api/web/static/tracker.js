/* Workflow Tracker pages: progressive enhancement only. Without this script the tabs
   are links (?tab=...) and the process table's headings sort on the server (?psort=...).
   With it: tabs switch in place (arrow keys, Home/End, as the ARIA tabs pattern says;
   a tab whose panel the server left out, [data-lazy], still loads its ?tab= page),
   [data-sortable] tables sort in the browser, a Copy button appears, and Escape
   dismisses the storage-cost tooltip. */
(function () {
  "use strict";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function setupTabs(root) {
    var tabs = Array.prototype.slice.call(root.querySelectorAll('[role="tab"]'));
    if (!tabs.length) { return; }

    function select(tab, focus) {
      var wanted = document.getElementById(tab.getAttribute("aria-controls"));
      if (wanted && wanted.hasAttribute("data-lazy")) {
        window.location.assign(tab.href);
        return;
      }
      tabs.forEach(function (other) {
        var selected = other === tab;
        other.setAttribute("aria-selected", selected ? "true" : "false");
        other.tabIndex = selected ? 0 : -1;
        var panel = document.getElementById(other.getAttribute("aria-controls"));
        if (panel) { panel.hidden = !selected; }
      });
      if (focus) { tab.focus(); }
      if (window.history && window.history.replaceState) {
        var url = new URL(window.location.href);
        url.searchParams.set("tab", tab.getAttribute("data-tab"));
        url.hash = "";
        window.history.replaceState(null, "", url.toString());
      }
    }

    tabs.forEach(function (tab, index) {
      tab.tabIndex = tab.getAttribute("aria-selected") === "true" ? 0 : -1;
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        select(tab, false);
      });
      tab.addEventListener("keydown", function (event) {
        var target = null;
        if (event.key === "ArrowRight") { target = tabs[(index + 1) % tabs.length]; }
        else if (event.key === "ArrowLeft") { target = tabs[(index - 1 + tabs.length) % tabs.length]; }
        else if (event.key === "Home") { target = tabs[0]; }
        else if (event.key === "End") { target = tabs[tabs.length - 1]; }
        if (target) {
          event.preventDefault();
          select(target, true);
        }
      });
    });
  }

  function cellValue(row, column, numeric) {
    var cell = row.cells[column];
    var value = cell.getAttribute("data-value");
    if (value === null) { value = cell.textContent.trim(); }
    return numeric ? parseFloat(value) || 0 : value.toLowerCase();
  }

  function sortRows(table, column, direction, numeric) {
    var body = table.tBodies[0];
    var keyed = Array.prototype.map.call(body.rows, function (row, index) {
      return { row: row, key: cellValue(row, column, numeric), index: index };
    });
    keyed.sort(function (a, b) {
      var order = numeric ? a.key - b.key : a.key.localeCompare(b.key);
      if (direction === "descending") { order = -order; }
      return order || a.index - b.index;
    });
    keyed.forEach(function (item) { body.appendChild(item.row); });
  }

  function setupSorting(table) {
    var headings = table.tHead ? table.tHead.rows[0].cells : [];
    each(headings, function (heading, column) {
      var link = heading.querySelector("a[data-sort]");
      if (!link) { return; }
      var numeric = heading.getAttribute("data-type") === "number";
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var current = heading.getAttribute("aria-sort");
        var direction = current === "ascending" ? "descending"
          : current === "descending" ? "ascending"
          : numeric ? "descending" : "ascending";
        sortRows(table, column, direction, numeric);
        each(headings, function (other) { other.removeAttribute("aria-sort"); });
        heading.setAttribute("aria-sort", direction);
      });
    });
  }

  function setupCopy(button) {
    if (!navigator.clipboard) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      }, function () {
        button.textContent = "Copy failed";
      });
    });
  }

  // The storage-cost breakdown shows on hover and focus (CSS); Escape hides it until
  // the pointer or the focus leaves (WCAG 1.4.13: dismissible).
  function setupTip(anchor) {
    anchor.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { anchor.classList.add("tip-dismissed"); }
    });
    function reset() { anchor.classList.remove("tip-dismissed"); }
    anchor.addEventListener("mouseleave", reset);
    anchor.addEventListener("blur", reset);
  }

  function start() {
    each(document.querySelectorAll("[data-tabs]"), setupTabs);
    each(document.querySelectorAll("table[data-sortable]"), setupSorting);
    each(document.querySelectorAll("button[data-copy]"), setupCopy);
    each(document.querySelectorAll(".tip-anchor"), setupTip);
    // a log's end is what matters: its box opens scrolled to the bottom
    each(document.querySelectorAll("[data-scroll-end]"), function (box) { box.scrollTop = box.scrollHeight; });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
