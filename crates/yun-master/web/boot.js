// Starts the console, and starts it again when one of its files failed to arrive. A browser
// aborts requests under way when the machine's network changes (Chromium's
// ERR_NETWORK_CHANGED: a new interface, a VPN, Wi-Fi, or Docker making a network on this very
// host), and a module that failed once fails for the rest of the page: without this, the page
// stayed at "Loading…" for good. A classic script, so it runs even when the modules do not.

(function () {
  const KEY = "yun-boot-retries";
  const RETRIES = 2;

  function failed() {
    const tried = Number(sessionStorage.getItem(KEY) || "0");
    if (tried < RETRIES) {
      sessionStorage.setItem(KEY, String(tried + 1));
      setTimeout(() => location.reload(), 250 * (tried + 1));
      return;
    }
    sessionStorage.removeItem(KEY);
    const view = document.getElementById("view");
    if (!view) return;
    view.textContent = "";
    const p = document.createElement("p");
    p.className = "form-error";
    p.id = "boot-failed";
    p.textContent = "The console could not load all of its files (the connection dropped, or the network changed). Reload the page to try again.";
    view.appendChild(p);
  }

  // A script's error does not bubble: it is caught on the way down.
  document.addEventListener(
    "error",
    (e) => {
      const el = e.target;
      if (el && el.tagName === "SCRIPT" && el.id === "app") failed();
    },
    true,
  );

  const app = document.createElement("script");
  app.type = "module";
  app.id = "app";
  app.src = "/app.js";
  document.head.appendChild(app);
})();
