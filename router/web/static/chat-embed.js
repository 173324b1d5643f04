// What the shop's page tells the chat through the widget (widget.js): who the customer is (a
// profile the shop's backend signed) and the product on the page. Only the framing page may say
// it (frame-ancestors limits who that is); the server checks the signature and every field.
export function listenToShop(session) {
  async function send(kind, data) {
    for (let i = 0; i < 100 && !session(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!session()) return;
    const body = kind === "identify"
      ? { session: session(), profile: data.profile, signature: data.signature }
      : { session: session(), product: data.product };
    try {
      await fetch(`/api/v1/webchat/${kind}`, { method: "POST", headers: { "Content-Type": "application/json" },
                                               body: JSON.stringify(body) });
    } catch { /* the next load of the chat tells the server again */ }
  }
  window.addEventListener("message", (e) => {
    if (e.source !== parent || !e.data || typeof e.data.data !== "object") return;
    if (e.data.kefu === "identify" || e.data.kefu === "context") send(e.data.kefu, e.data.data);
  });
}
