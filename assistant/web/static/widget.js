/* Article assistant embed: one script tag adds a launcher that opens the chat in an iframe.
 *
 *   <script src="https://assistant.example.org/widget.js" data-article="ID" async></script>
 *
 * Optional data attributes: data-position="right|left", data-title="Ask about this article",
 * data-open="true" (open on load). Choosing a citation in the chat scrolls to and highlights
 * the quoted sentence in this page's own text (accents, quotes, dashes, spaces, soft hyphens
 * and links inside the sentence may differ from the indexed article). Before the chat is
 * framed, /widget/check says whether this page's origin may frame it and whether the article
 * is indexed; what a developer must fix goes to the console, never to readers. No framework,
 * no CDN.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__articleAssistantLoaded) { return; }
  window.__articleAssistantLoaded = true;

  var base = new URL(script.src, document.baseURI);
  var origin = base.origin;
  var article = script.getAttribute("data-article") || "";
  var position = script.getAttribute("data-position") === "left" ? "left" : "right";
  var title = script.getAttribute("data-title") || "Ask about this article";
  var openOnLoad = script.getAttribute("data-open") === "true";
  var P = "aa-widget";
  var TAG = "[article assistant] ";
  var phone = window.matchMedia("(max-width: 520px)");

  var style = document.createElement("style");
  style.textContent =
    "." + P + "-launcher{position:fixed;bottom:20px;" + position + ":20px;z-index:2147483646;" +
    "font:600 15px/1.2 system-ui,sans-serif;color:#fff;background:#1f4e8c;border:0;border-radius:24px;" +
    "padding:12px 18px;box-shadow:0 2px 10px rgba(0,0,0,.25);cursor:pointer}" +
    "." + P + "-launcher:focus-visible,." + P + "-bar:focus-visible{outline:3px solid #f5b400;outline-offset:2px}" +
    "." + P + "-frame{position:fixed;bottom:80px;" + position + ":20px;z-index:2147483647;" +
    "width:380px;height:560px;max-height:calc(100vh - 100px);border:1px solid #ccd;border-radius:12px;" +
    "box-shadow:0 6px 24px rgba(0,0,0,.3);background:#fff;display:none}" +
    "." + P + "-frame[data-open=true]{display:block}" +
    "." + P + "-bar{position:fixed;left:0;right:0;bottom:0;z-index:2147483647;display:none;width:100%;" +
    "font:600 15px/1.3 system-ui,sans-serif;color:#fff;background:#1f4e8c;border:0;padding:14px 16px;" +
    "text-align:left;box-shadow:0 -2px 10px rgba(0,0,0,.25);cursor:pointer}" +
    "." + P + "-bar[data-shown=true]{display:block}" +
    /* a phone: a sheet over the lower part of the page, which stays in view above it */
    "@media (max-width:520px){." + P + "-frame{left:0;right:0;bottom:0;width:100%;height:62vh;" +
    "max-height:none;border-radius:14px 14px 0 0}}" +
    "mark." + P + "-hit{background:#ffe27a;color:inherit;padding:0 1px;border-radius:2px;" +
    "box-shadow:0 0 0 2px #ffe27a}";
  document.head.appendChild(style);

  var button = document.createElement("button");
  button.type = "button";
  button.className = P + "-launcher";
  button.textContent = title;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", P + "-frame");

  /* on a phone, after a citation is shown: one tap back to the chat */
  var bar = document.createElement("button");
  bar.type = "button";
  bar.className = P + "-bar";
  bar.textContent = "Sentence highlighted. Back to the chat";

  var frame = null;
  function ensureFrame() {
    if (frame) { return frame; }
    frame = document.createElement("iframe");
    frame.id = P + "-frame";
    frame.className = P + "-frame";
    frame.title = title;
    var src = new URL("/widget", origin);
    src.searchParams.set("article", article);
    src.searchParams.set("host", window.location.origin);
    src.searchParams.set("title", title);
    frame.src = src.toString();
    document.body.appendChild(frame);
    return frame;
  }
  function isOpen() { return !!frame && frame.getAttribute("data-open") === "true"; }
  function tell(type) { if (frame && frame.contentWindow) { frame.contentWindow.postMessage({ type: type }, origin); } }
  function setOpen(open) {
    var f = ensureFrame();
    f.setAttribute("data-open", open ? "true" : "false");
    f.style.height = "";
    bar.setAttribute("data-shown", "false");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.style.display = open && phone.matches ? "none" : "";
    if (open) { f.focus(); tell("article-assistant:opened"); } else { button.focus(); }
  }
  function collapse() {
    frame.setAttribute("data-open", "false");
    button.style.display = "none";
    bar.setAttribute("data-shown", "true");
  }
  button.addEventListener("click", function () { setOpen(!isOpen()); });
  bar.addEventListener("click", function () { setOpen(true); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && (isOpen() || bar.getAttribute("data-shown") === "true")) { setOpen(false); }
  });

  /* The quote is looked for with only letters and digits kept, lower case, accents off: so
     typographic quotes, dashes, spaces, soft hyphens and a sentence split across links or
     other inline elements still match. */
  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
  }
  function textNodes() {
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        var parent = node.parentNode;
        if (!parent || /^(SCRIPT|STYLE|NOSCRIPT|IFRAME|TEXTAREA|TEMPLATE)$/.test(parent.nodeName)) { return NodeFilter.FILTER_REJECT; }
        if (parent.closest && parent.closest("." + P + "-launcher,." + P + "-bar")) { return NodeFilter.FILTER_REJECT; }
        return NodeFilter.FILTER_ACCEPT;
      }
    });
    var nodes = [];
    while (walker.nextNode()) { nodes.push(walker.currentNode); }
    return nodes;
  }
  function clearMarks() {
    var marks = document.querySelectorAll("mark." + P + "-hit");
    for (var i = 0; i < marks.length; i++) {
      var mark = marks[i], parent = mark.parentNode;
      while (mark.firstChild) { parent.insertBefore(mark.firstChild, mark); }
      parent.removeChild(mark);
      parent.normalize();
    }
  }
  /* where the quote is: [first node, offset, last node, end offset], or null */
  function locate(quote) {
    var needle = fold(quote);
    if (!needle) { return null; }
    var nodes = textNodes(), flat = "", map = [];
    for (var i = 0; i < nodes.length; i++) {
      var value = nodes[i].nodeValue;
      for (var j = 0; j < value.length; j++) {
        var folded = fold(value[j]);
        for (var k = 0; k < folded.length; k++) { map.push([i, j]); }
        flat += folded;
      }
    }
    var at = flat.indexOf(needle);
    if (at < 0) { return null; }
    var first = map[at], last = map[at + needle.length - 1];
    var end = last[1] + 1, tail = nodes[last[0]].nodeValue;
    while (end < tail.length && /[^\s\p{L}\p{N}]/u.test(tail[end])) { end++; } /* closing punctuation */
    var lastIndex = last[0], next = nodes[lastIndex + 1], more = 0;
    while (end === tail.length && next && more < next.nodeValue.length && /[^\s\p{L}\p{N}]/u.test(next.nodeValue[more])) { more++; }
    if (more) { lastIndex++; end = more; } /* the full stop after a link or an emphasis */
    var start = first[1], head = nodes[first[0]].nodeValue;
    while (start > 0 && /["'\u201c\u2018\u00ab\u201e(]/.test(head[start - 1])) { start--; }
    return { nodes: nodes.slice(first[0], lastIndex + 1), start: start, end: end };
  }
  function highlight(quote) {
    var found = locate(quote);
    if (!found) { return false; }  /* the previous highlight stays */
    clearMarks();
    var marks = [], nodes = found.nodes;
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var s = i === 0 ? found.start : 0;
      var e = i === nodes.length - 1 ? found.end : node.nodeValue.length;
      if (e <= s || !node.nodeValue.slice(s, e).trim()) { continue; }
      var range = document.createRange();
      range.setStart(node, s);
      range.setEnd(node, e);
      var mark = document.createElement("mark");
      mark.className = P + "-hit";
      range.surroundContents(mark);
      marks.push(mark);
    }
    if (!marks.length) { return false; }
    reveal(marks);
    return true;
  }
  /* Scroll the sentence into view where the chat does not cover it: on a phone the chat
     folds into the bar; beside a page it goes above the chat, the chat shortened if need be. */
  function reveal(marks) {
    var top = Infinity, bottom = -Infinity, left = Infinity, right = -Infinity;
    marks.forEach(function (m) {
      var r = m.getBoundingClientRect();
      top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom);
      left = Math.min(left, r.left); right = Math.max(right, r.right);
    });
    frame.style.height = "";
    var f = frame.getBoundingClientRect(), height = bottom - top, y = window.scrollY;
    var most = document.documentElement.scrollHeight - window.innerHeight;
    var covered = isOpen() && left < f.right && right > f.left;
    var target = y + top - (window.innerHeight - height) / 2;
    if (phone.matches) {
      collapse();
      target = y + top - Math.max(8, (window.innerHeight - 60 - height) / 2);
    } else if (covered) {
      target = Math.min(most, Math.max(0, y + bottom - (f.top - 16)));
      var end = bottom - (target - y), room = f.bottom - end - 16;
      if (end > f.top - 8 && room >= 300) { frame.style.height = room + "px"; }
      else if (end > f.top - 8) { collapse(); }
    }
    window.scrollTo({ top: target, behavior: "smooth" });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.type === "article-assistant:cite" && typeof data.quote === "string") {
      var found = highlight(data.quote);
      if (!found) {
        console.warn(TAG + "citation [" + data.n + "] was not found in this page's text: \u201c" + data.quote +
          "\u201d. The page must hold the article's sentences as text (see the assistant's README).");
      }
      frame.contentWindow.postMessage({ type: "article-assistant:cited", found: found, n: data.n }, origin);
    } else if (data.type === "article-assistant:close") {
      setOpen(false);
    }
  });

  function mount() {
    document.body.appendChild(button);
    document.body.appendChild(bar);
    if (openOnLoad) { setOpen(true); }
  }
  /* Ask the assistant first: a refused origin would get a grey, broken frame. */
  function check() {
    var url = new URL("/widget/check", origin);
    url.searchParams.set("article", article);
    fetch(url.toString(), { credentials: "omit" }).then(function (response) {
      return response.json();
    }).then(function (result) {
      if (!result.origin_allowed) {
        console.error(TAG + "this page's origin, " + window.location.origin + ", may not frame the assistant at " +
          origin + ". Add it to ASSISTANT_ALLOWED_ORIGINS on the assistant's server (comma-separated), e.g. " +
          "ASSISTANT_ALLOWED_ORIGINS=" + window.location.origin + ", and restart it. Until then no chat button is shown.");
        return;
      }
      if (!result.article_known) {
        console.error(TAG + "data-article=\"" + article + "\" is not an article the assistant at " + origin +
          " has indexed; readers are told the article is not available for questions. The ids it knows: " +
          origin + "/api/articles");
      }
      mount();
    }, function (error) {
      console.warn(TAG + "could not reach " + url + " (" + error + "); the chat is shown anyway.");
      mount();
    });
  }
  if (document.body) { check(); } else { document.addEventListener("DOMContentLoaded", check); }
})();
