// What the page does that Gradio has no component for. Runs once as the js_on_load of the #ui-behaviour
// HTML block (assistant/ui.py): `element` is that block, `server.preview([chunkId, quote])` returns an
// article card (escaped, the supporting sentence marked) from ui_render.article_html.
//  - citation chips in every answer: hover or focus previews the article, a click shows it in the source
//    panel (wide screens) or in a drawer over the page (phones); Esc closes the drawer
//  - the copy button of every answer; the "open article" buttons of the keyword search
//  - lang="zh-CN" and Chinese screen-reader labels on the chat messages (Gradio writes "bot's message: …"
//    with the message's HTML source) and on the chat log, named by the heading above it (Gradio names it
//    "chatbot conversation")
if (!window.__xihuUi) {
  window.__xihuUi = true;
  document.documentElement.lang = "zh-CN";
  const drawer = element.querySelector(".source-drawer");
  const drawerBody = element.querySelector(".drawer-body");
  const closeButton = element.querySelector(".drawer-close");
  const tip = element.querySelector(".chip-preview");
  const narrow = () => window.matchMedia("(max-width: 820px)").matches;
  const cards = new Map();
  let opener = null;
  let hovered = null;

  // Gradio's sanitizer keeps classes, not data-* attributes: a chip names its chunk in a "chunk-A18" class
  // and carries the supporting sentence in a hidden .chip-quote span.
  const chunkOf = (chip) => (Array.from(chip.classList).find((c) => c.startsWith("chunk-")) || "").slice(6);
  const quoteOf = (chip) => chip.querySelector(".chip-quote")?.textContent || "";
  const articleCard = async (chip) => {
    const key = chunkOf(chip) + "\u0000" + quoteOf(chip);
    if (!cards.has(key)) cards.set(key, await server.preview([chunkOf(chip), quoteOf(chip)]));
    return cards.get(key);
  };
  // The answer as written: its paragraphs and quotations, without the screen-reader hints.
  const answerText = (answer) =>
    Array.from(answer.querySelectorAll(".answer-text > *"))
      .map((line) => {
        const copy = line.cloneNode(true);
        copy.querySelectorAll(".sr-only").forEach((hint) => hint.remove());
        return copy.textContent;
      })
      .join("\n");
  const openDrawer = (card, chip) => {
    drawerBody.innerHTML = card;
    drawer.hidden = false;
    opener = chip;
    closeButton.focus();
  };
  const closeDrawer = () => {
    if (drawer.hidden) return;
    drawer.hidden = true;
    if (opener) opener.focus();
    opener = null;
  };
  const hideTip = () => {
    tip.hidden = true;
    hovered = null;
  };
  const showTip = async (chip) => {
    if (narrow()) return;
    hovered = chip;
    let card;
    try {
      card = await articleCard(chip);
    } catch (error) {
      // the server did not answer (busy, restarted): the next hover or focus asks again
      if (hovered === chip) hovered = null;
      return;
    }
    if (hovered !== chip) return;
    tip.innerHTML = card;
    const box = chip.getBoundingClientRect();
    const width = Math.min(440, window.innerWidth - 16);
    tip.style.width = width + "px";
    tip.style.left = Math.max(8, Math.min(box.left, window.innerWidth - width - 8)) + "px";
    const below = box.bottom + 6;
    tip.hidden = false;
    const height = tip.offsetHeight;
    tip.style.top = (below + height < window.innerHeight ? below : Math.max(8, box.top - height - 6)) + "px";
  };
  const copyText = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  };
  const openArticle = (chunkId) => {
    const box = document.querySelector("#article-number textarea, #article-number input");
    if (!box) return;
    box.value = chunkId;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => document.querySelector("#article-jump")?.click(), 0);
  };

  document.addEventListener(
    "click",
    async (event) => {
      const chip = event.target.closest(".cite-chip");
      if (chip) {
        event.preventDefault();
        event.stopPropagation();
        hideTip();
        const card = await articleCard(chip);
        const panel = document.querySelector("#article-panel .panel-body");
        if (narrow() || !panel) openDrawer(card, chip);
        else panel.innerHTML = card;
        return;
      }
      const copy = event.target.closest(".copy-answer");
      if (copy) {
        event.preventDefault();
        event.stopPropagation();
        await copyText(answerText(copy.closest(".answer")));
        copy.firstChild.textContent = "已复制";
        setTimeout(() => (copy.firstChild.textContent = "复制"), 1500);
        return;
      }
      const hit = event.target.closest(".hit-open");
      if (hit) {
        event.preventDefault();
        openArticle(chunkOf(hit));
        return;
      }
      if (event.target.closest(".drawer-close") || event.target === drawer) closeDrawer();
    },
    true,
  );
  document.addEventListener("mouseover", (event) => {
    const chip = event.target.closest(".cite-chip");
    if (chip && chip !== hovered) showTip(chip);
    else if (!chip && hovered && !event.target.closest(".chip-preview")) hideTip();
  });
  document.addEventListener("focusin", (event) => {
    const chip = event.target.closest(".cite-chip");
    if (chip) showTip(chip);
    else if (hovered) hideTip();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      hideTip();
      closeDrawer();
    }
  });

  const speakers = { user: "您的问题：", bot: "助手的回答：" };
  const relabel = () => {
    for (const message of document.querySelectorAll("#chatbot [data-testid][aria-label]")) {
      const speaker = speakers[message.dataset.testid];
      if (!speaker) continue;
      const answer = message.querySelector(".answer");
      const text = answer ? answerText(answer) : message.textContent;
      const wanted = speaker + text.replace(/\s+/g, " ").trim();
      if (message.getAttribute("aria-label") !== wanted) message.setAttribute("aria-label", wanted);
    }
    const log = document.querySelector('#chatbot [role="log"]');
    if (log && log.getAttribute("aria-labelledby") !== "chat-heading") {
      log.removeAttribute("aria-label");
      log.setAttribute("aria-labelledby", "chat-heading");
    }
  };
  new MutationObserver(relabel).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["aria-label"],
  });
  relabel();
}
