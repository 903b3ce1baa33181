/* Inline citations in the Gradio chat (run once, by the article panel's js_on_load).
 *
 * Each "[n]" in an answer is a link to its passage whose title is the quote. Pointing at it
 * or focusing it shows the quote in a tooltip; choosing it scrolls the article panel to the
 * sentence and marks it, and on a narrow screen (the panel is below the chat) opens the
 * sentence's paragraph under the answer instead. The "show passage" links of the sources
 * go to the panel the same way.
 */
if (!window.__articleAssistantCites) {
  window.__articleAssistantCites = true;
  const NARROW = window.matchMedia("(max-width: 768px)");
  const tip = document.createElement("div");
  tip.id = "cite-tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  (element.closest("main") || document.body).appendChild(tip);

  const refOf = (node) => {
    const link = node && node.closest ? node.closest('a[href^="#passage-"]') : null;
    return link && link.closest("#chat") ? link : null;
  };
  const quoteOf = (link) => {
    if (link.title) { link.dataset.quote = link.title; link.removeAttribute("title"); }
    return link.dataset.quote || "";
  };
  const show = (link) => {
    const quote = quoteOf(link);
    if (!quote) { return; }
    link.classList.add("cite-ref");
    link.setAttribute("aria-describedby", "cite-tip");
    tip.textContent = "\u201c" + quote + "\u201d";
    tip.hidden = false;
    const r = link.getBoundingClientRect();
    const left = Math.max(8, Math.min(r.left, window.innerWidth - tip.offsetWidth - 8));
    const above = r.top - tip.offsetHeight - 8;
    tip.style.left = left + "px";
    tip.style.top = (above >= 8 ? above : r.bottom + 8) + "px";
  };
  const hide = () => { tip.hidden = true; };

  const inPanel = (id, n) => {
    const box = document.querySelector("#article-panel .article-view");
    const passage = box && box.querySelector("#" + CSS.escape(id));
    if (!passage) { return false; }
    box.querySelectorAll(".flash").forEach((el) => el.classList.remove("flash"));
    const mark = [...passage.querySelectorAll("mark")].find((m) => m.title === "Source [" + n + "]");
    (mark || passage).classList.add("flash");
    const head = box.querySelector(".article-head");
    const room = (head ? head.offsetHeight : 0) + 8;
    box.scrollTop += passage.getBoundingClientRect().top - box.getBoundingClientRect().top - room;
    return true;
  };
  const underAnswer = (link, n) => {
    const message = link.closest(".message, .message-row, .bot, [data-testid='bot']");
    const details = message && [...message.querySelectorAll("details.source-context")]
      .find((d) => d.querySelector("summary").textContent.indexOf("[" + n + "]") >= 0);
    if (!details) { return false; }
    details.open = true;
    details.scrollIntoView({ block: "nearest" });
    return true;
  };

  document.addEventListener("mouseover", (e) => { const l = refOf(e.target); if (l) { show(l); } });
  document.addEventListener("mouseout", (e) => { if (refOf(e.target)) { hide(); } });
  document.addEventListener("focusin", (e) => { const l = refOf(e.target); if (l) { show(l); } else { hide(); } });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") { hide(); } });
  document.addEventListener("click", (e) => {
    const link = refOf(e.target);
    if (!link) { return; }
    e.preventDefault();
    e.stopPropagation();
    const id = link.getAttribute("href").slice(1);
    const n = (link.textContent.match(/\d+/) || [""])[0];
    const shown = inPanel(id, n);
    if (NARROW.matches && !underAnswer(link, n) && shown) {
      document.getElementById("article-panel").scrollIntoView({ block: "start" });
    }
  }, true);
}
