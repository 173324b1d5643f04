// The embeddable widget: a shop adds one tag to its own pages,
//   <script src="https://KEFU-HOST/static/widget.js" data-title="Shop name" async></script>
// and gets a floating chat button that opens /chat in an iframe. The kefu host must list the
// shop's origin in channels.webchat.allowed_origins, or the browser refuses to frame the chat.
// The page may also tell the chat who the customer is and what they are looking at:
//   kefu('identify', {profile: "<JSON the shop's backend signed>", signature: "<hex HMAC>"});
//   kefu('context', {product: {id, title, price, image, url}});
// Calls made before this script loaded wait in kefu.q (the snippet in docs/widget.md); the chat
// gets the latest of each when it opens, and at once while it is open.
(() => {
  const script = document.currentScript;
  if (!script || window.__kefuWidget) return;
  window.__kefuWidget = true;
  const origin = new URL(script.src).origin;
  const zh = (navigator.language || "").toLowerCase().startsWith("zh");
  const title = (script.dataset.title || "").slice(0, 60);
  const label = title || (zh ? "在线客服" : "Chat with us");
  const unreadLabel = `${label}, ${zh ? "有新消息" : "new message"}`;

  // Styles go through the CSSOM, which a shop's own style-src policy does not block.
  const set = (el, css) => Object.assign(el.style, css);
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  set(button, { position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483000", padding: "12px 18px",
    border: "0", borderRadius: "24px", background: "#0a66c2", color: "#fff", font: "600 15px system-ui, sans-serif",
    boxShadow: "0 4px 14px rgba(0,0,0,.25)", cursor: "pointer" });
  const dot = document.createElement("span");
  // One name whatever the state (aria-expanded says open or closed); unread news is added to it.
  const showDot = (on) => {
    dot.style.display = on ? "inline-block" : "none";
    if (on) button.setAttribute("aria-label", unreadLabel); else button.removeAttribute("aria-label");
  };
  set(dot, { display: "none", width: "9px", height: "9px", marginLeft: "8px", borderRadius: "50%", background: "#fbbf24" });
  button.append(dot);

  let frame = null;
  let loaded = false;
  const told = {}; // the latest identify and context, given to the chat whenever it (re)loads
  const tell = (kind) => {
    if (frame && loaded && told[kind]) frame.contentWindow.postMessage({ kefu: kind, data: told[kind] }, origin);
  };
  const command = (kind, data) => {
    if ((kind !== "identify" && kind !== "context") || !data || typeof data !== "object") return;
    told[kind] = data;
    tell(kind);
  };
  const queued = (window.kefu && window.kefu.q) || [];
  window.kefu = command;
  queued.forEach((args) => command(args[0], args[1]));
  const small = () => window.matchMedia("(max-width: 480px)").matches;
  function place() {
    if (!frame) return;
    set(frame, small()
      ? { inset: "0", width: "100%", height: "100%", borderRadius: "0" }
      : { inset: "auto 20px 84px auto", width: "380px", height: "min(600px, calc(100vh - 110px))", borderRadius: "12px" });
  }
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = label;
      frame.src = `${origin}/chat?embed=1&title=${encodeURIComponent(title)}`;
      set(frame, { position: "fixed", zIndex: "2147483001", border: "0", background: "#fff", boxShadow: "0 8px 30px rgba(0,0,0,.3)" });
      frame.addEventListener("load", () => {
        loaded = true;
        tell("identify");
        tell("context");
        frame.contentWindow.postMessage({ kefu: "focus" }, origin);
      });
      document.body.append(frame);
      window.addEventListener("resize", place);
    }
    place();
    frame.hidden = false;
    showDot(false);
    button.setAttribute("aria-expanded", "true");
    if (small()) button.hidden = true;
    frame.focus();
    frame.contentWindow.postMessage({ kefu: "focus" }, origin); // moves focus to the composer
  }
  function close() {
    if (frame) frame.hidden = true;
    button.hidden = false;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  button.addEventListener("click", () => (frame && !frame.hidden ? close() : open()));
  window.addEventListener("message", (e) => {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    if (e.data && e.data.kefu === "minimise") close();
    if (e.data && e.data.kefu === "unread" && frame.hidden) showDot(true);
  });
  const mount = () => document.body.append(button);
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
