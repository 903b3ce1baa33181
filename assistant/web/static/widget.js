/* Article assistant embed: one script tag adds a launcher that opens the chat in an iframe.
 *
 *   <script src="https://assistant.example.org/widget.js" data-article="ID" async></script>
 *
 * Optional data attributes: data-position="right|left", data-title="Ask about this article",
 * data-open="true" (open on load). Clicking a citation in the chat scrolls to and highlights
 * the quoted sentence in this page's own article text. No framework, no CDN.
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
  var PREFIX = "aa-widget";

  var style = document.createElement("style");
  style.textContent =
    "." + PREFIX + "-launcher{position:fixed;bottom:20px;" + position + ":20px;z-index:2147483646;" +
    "font:600 15px/1.2 system-ui,sans-serif;color:#fff;background:#1f4e8c;border:0;border-radius:24px;" +
    "padding:12px 18px;box-shadow:0 2px 10px rgba(0,0,0,.25);cursor:pointer}" +
    "." + PREFIX + "-launcher:focus-visible{outline:3px solid #f5b400;outline-offset:2px}" +
    "." + PREFIX + "-frame{position:fixed;bottom:80px;" + position + ":20px;z-index:2147483647;" +
    "width:380px;height:560px;max-height:calc(100vh - 100px);border:1px solid #ccd;border-radius:12px;" +
    "box-shadow:0 6px 24px rgba(0,0,0,.3);background:#fff;display:none}" +
    "." + PREFIX + "-frame[data-open=true]{display:block}" +
    "@media (max-width:520px){." + PREFIX + "-frame{left:0;right:0;bottom:0;top:0;width:100%;height:100%;" +
    "max-height:none;border-radius:0}}" +
    "mark." + PREFIX + "-hit{background:#ffe27a;color:inherit;padding:0 1px;border-radius:2px;" +
    "box-shadow:0 0 0 2px #ffe27a}";
  document.head.appendChild(style);

  var button = document.createElement("button");
  button.type = "button";
  button.className = PREFIX + "-launcher";
  button.textContent = title;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", PREFIX + "-frame");

  var frame = null;
  function ensureFrame() {
    if (frame) { return frame; }
    frame = document.createElement("iframe");
    frame.id = PREFIX + "-frame";
    frame.className = PREFIX + "-frame";
    frame.title = title;
    var src = new URL("/widget", origin);
    src.searchParams.set("article", article);
    src.searchParams.set("host", window.location.origin);
    src.searchParams.set("title", title);
    frame.src = src.toString();
    document.body.appendChild(frame);
    return frame;
  }
  function setOpen(open) {
    var f = ensureFrame();
    f.setAttribute("data-open", open ? "true" : "false");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { f.focus(); } else { button.focus(); }
  }
  button.addEventListener("click", function () {
    setOpen(!frame || frame.getAttribute("data-open") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && frame && frame.getAttribute("data-open") === "true") { setOpen(false); }
  });

  /* Find the quote in this page's text (typographic quotes and spaces may differ) and mark it. */
  function normalise(text) {
    return text.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/\s+/g, " ");
  }
  function textNodes() {
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        var parent = node.parentNode;
        if (!parent || /^(SCRIPT|STYLE|NOSCRIPT|IFRAME|TEXTAREA)$/.test(parent.nodeName)) { return NodeFilter.FILTER_REJECT; }
        if (parent.closest && parent.closest("." + PREFIX + "-launcher")) { return NodeFilter.FILTER_REJECT; }
        return NodeFilter.FILTER_ACCEPT;
      }
    });
    var nodes = [];
    while (walker.nextNode()) { nodes.push(walker.currentNode); }
    return nodes;
  }
  function clearMarks() {
    var marks = document.querySelectorAll("mark." + PREFIX + "-hit");
    for (var i = 0; i < marks.length; i++) {
      var mark = marks[i];
      var parent = mark.parentNode;
      while (mark.firstChild) { parent.insertBefore(mark.firstChild, mark); }
      parent.removeChild(mark);
      parent.normalize();
    }
  }
  function highlight(quote) {
    clearMarks();
    var nodes = textNodes();
    var flat = "";
    var map = []; /* for each char of flat: [node, offset] */
    for (var i = 0; i < nodes.length; i++) {
      var value = nodes[i].nodeValue;
      for (var j = 0; j < value.length; j++) {
        var ch = normalise(value[j]);
        if (ch === " " && flat.charAt(flat.length - 1) === " ") { continue; }
        flat += ch;
        map.push([nodes[i], j]);
      }
      if (flat.charAt(flat.length - 1) !== " ") { flat += " "; map.push([nodes[i], value.length]); }
    }
    var needle = normalise(quote).trim();
    var at = flat.indexOf(needle);
    if (at < 0) { return false; }
    var first = map[at];
    var last = map[at + needle.length - 1];
    var marks = [];
    for (var k = 0; k < nodes.length; k++) {
      var node = nodes[k];
      var inRange = node === first[0] || node === last[0] ||
        (first[0].compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING &&
         node.compareDocumentPosition(last[0]) & Node.DOCUMENT_POSITION_FOLLOWING);
      if (!inRange) { continue; }
      var start = node === first[0] ? first[1] : 0;
      var end = node === last[0] ? last[1] + 1 : node.nodeValue.length;
      if (end <= start) { continue; }
      var range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, Math.min(end, node.nodeValue.length));
      var mark = document.createElement("mark");
      mark.className = PREFIX + "-hit";
      range.surroundContents(mark);
      marks.push(mark);
    }
    if (marks.length) {
      marks[0].setAttribute("tabindex", "-1");
      marks[0].scrollIntoView({ behavior: "smooth", block: "center" });
    }
    return marks.length > 0;
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.type === "article-assistant:cite" && typeof data.quote === "string") {
      var found = highlight(data.quote);
      frame.contentWindow.postMessage({ type: "article-assistant:cited", found: found }, origin);
    } else if (data.type === "article-assistant:close") {
      setOpen(false);
    }
  });

  function mount() {
    document.body.appendChild(button);
    if (openOnLoad) { setOpen(true); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
