"""Checks the browser tests run inside a page: horizontal overflow, WCAG AA text
contrast, and the colour of an element."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

_OVERFLOW = """() => {
  const root = document.documentElement;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.parentElement && el.parentElement.closest('.table-scroll')) continue;  // scrolls in its own box
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > root.clientWidth + 0.5) {
      wide.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} right=${Math.round(box.right)}`);
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide.slice(0, 10)};
}"""

_CONTRAST = """() => {
  const parse = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255, a: 1};
  };
  const failures = [];
  let checked = 0;
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (el.closest('.visually-hidden, [hidden], .skip-link')) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    const fg = parse(style.color), bg = background(el);
    const l1 = luminance(fg), l2 = luminance(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    checked += 1;
    if (ratio < needed) {
      failures.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}" `
                    + `${ratio.toFixed(2)} < ${needed}`);
    }
  }
  return {checked, failures};
}"""


def overflow(page: Page) -> dict[str, Any]:
    """The page's scroll and client widths, and elements sticking out to the right
    (those inside a scrolling table container excepted)."""
    result: dict[str, Any] = page.evaluate(_OVERFLOW)
    return result


def assert_no_horizontal_overflow(page: Page) -> None:
    found = overflow(page)
    assert found["scrollWidth"] <= found["clientWidth"], found
    assert not found["wide"], found


def assert_readable_contrast(page: Page) -> None:
    """Every visible text meets WCAG AA against its background (4.5:1, or 3:1 when large)."""
    result = page.evaluate(_CONTRAST)
    assert result["checked"] >= 5, result
    assert not result["failures"], result


def css(page: Page, selector: str, prop: str) -> str:
    value: str = page.locator(selector).first.evaluate(f"(el) => getComputedStyle(el)[{prop!r}]")
    return value
