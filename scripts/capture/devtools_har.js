// DevTools-frontend HAR export, headless.
//
// Chromium serves its bundled DevTools frontend at
//   http://127.0.0.1:<remote-debugging-port>/devtools/inspector.html   (and devtools://devtools/bundled/)
// Opened with ?ws=127.0.0.1:<port>/devtools/page/<targetId> it runs in "hosted mode"
// (InspectorFrontendHostStub) as a second CDP client of the scenario page, with its
// own SDK.NetworkManager / Logs.NetworkLog recording.  At the end we open the Network
// panel and call NetworkLogView.exportAll({sanitize}) -- the very function behind the
// menu items "Export HAR (sanitized)..." and "Export HAR (with sensitive data)...".
// exportAll writes through InspectorFrontendHost.save/append/close; we tap the hosted-mode
// stub to collect the bytes.  Fallback (if the panel API moved):
// HAR.Writer.Writer.harStringForRequests(view.harRequests(), {sanitize}).
'use strict';

// 'devtools' (default): devtools://devtools/bundled/..., needs --remote-allow-origins=*
//   (else the ws handshake from that origin is refused and the frontend never attaches);
//   frontend files come from resources.pak, so they do NOT show up in the NetLog.
// 'http': http://127.0.0.1:<port>/devtools/..., no extra flag, but ~60 frontend file
//   loads (~3 MB) land in the NetLog.
const FRONTEND = process.env.DEVTOOLS_FRONTEND || 'devtools';

async function openDevtoolsFrontend(browser, scenarioContext, scenarioPage, devport) {
  const cdp = await scenarioContext.newCDPSession(scenarioPage);
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  await cdp.detach();
  const ws = `127.0.0.1:${devport}/devtools/page/${targetInfo.targetId}`;
  const base = FRONTEND === 'devtools'
    ? 'devtools://devtools/bundled'
    : `http://127.0.0.1:${devport}/devtools`;
  // separate context: frontend's own loads stay out of the scenario's Playwright HAR
  const ctx = await browser.newContext();
  const fe = await ctx.newPage();
  await fe.goto(`${base}/inspector.html?ws=${ws}`);
  // Wait until the frontend has attached to the page target and has a NetworkManager.
  // (Do NOT use page.waitForFunction with an async predicate: the returned Promise is
  // truthy, so it "passes" immediately -- that race gave empty HARs.)
  const deadline = Date.now() + 15000;
  for (;;) {
    const ok = await fe.evaluate(async (base) => {
      try {
        const SDK = await import(`${base}/core/sdk/sdk.js`);
        const t = SDK.TargetManager.TargetManager.instance().primaryPageTarget();
        if (!(t && t.model(SDK.NetworkManager.NetworkManager))) return false;
        // round trip on the same CDP session: Network.enable (sent when the
        // NetworkManager was created) has been processed once this answers
        await t.runtimeAgent().invoke_evaluate({ expression: '1' });
        return true;
      } catch { return false; }
    }, base);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('DevTools frontend did not attach to ' + ws);
    await new Promise(r => setTimeout(r, 100));
  }
  await fe.evaluate(async (base) => {
    const Common = await import(`${base}/core/common/common.js`);
    const UI = await import(`${base}/ui/legacy/legacy.js`);
    try { Common.Settings.Settings.instance().moduleSetting('network-log.preserve-log').set(true); } catch {}
    await UI.ViewManager.ViewManager.instance().showView('network');
  }, base);
  return { ctx, page: fe, base, close: () => ctx.close() };
}

async function exportDevtoolsHar(frontend, sanitize) {
  const { page, base } = frontend;
  // 1) the real "Export HAR" path: NetworkLogView.exportAll({sanitize}) writes through
  //    Bindings.FileUtils.FileOutputStream -> InspectorFrontendHost.save/append/close.
  //    We swap save/append/close on the host object to collect the bytes.
  try {
    return await page.evaluate(async ({ base, sanitize }) => {
      const Network = await import(`${base}/panels/network/network.js`);
      const Host = await import(`${base}/core/host/host.js`);
      const h = Host.InspectorFrontendHost.InspectorFrontendHostInstance;
      const chunks = [];
      const orig = { save: h.save, append: h.append, close: h.close };
      // Replace the host's file API (stub in http:// hosted mode; real embedder under
      // devtools://, whose save() opens a file chooser that headless cancels) with one
      // that keeps the bytes and acks like the embedder would.
      const ev = h.events;
      h.save = (url, content) => {
        chunks.push(content);
        setTimeout(() => ev.dispatchEventToListeners('savedURL', { url, fileSystemPath: url }), 0);
      };
      h.append = (url, content) => {
        chunks.push(content);
        setTimeout(() => ev.dispatchEventToListeners('appendedToURL', url), 0);
      };
      h.close = () => {};
      try {
        const view = Network.NetworkPanel.NetworkPanel.instance().networkLogView;
        await view.exportAll({ sanitize });
      } finally { Object.assign(h, orig); }
      if (!chunks.join('').length) throw new Error('exportAll wrote nothing (no scope target?)');
      return chunks.join('');
    }, { base, sanitize });
  } catch (e) {
    console.error(`devtools exportAll failed (${e.message.split('\n')[0]}); using HAR.Writer fallback`);
  }
  // 2) fallback: same HAR writer and request filter, string returned directly
  return page.evaluate(async ({ base, sanitize }) => {
    const Network = await import(`${base}/panels/network/network.js`);
    const HAR = await import(`${base}/models/har/har.js`);
    const Common = await import(`${base}/core/common/common.js`);
    const view = Network.NetworkPanel.NetworkPanel.instance().networkLogView;
    const progress = new Common.Progress.CompositeProgress(new Common.Progress.Progress());
    return HAR.Writer.Writer.harStringForRequests(view.harRequests(), { sanitize }, progress);
  }, { base, sanitize });
}

function devtoolsLaunchArgs(devport) {
  const a = [`--remote-debugging-port=${devport}`];
  if (FRONTEND === 'devtools') a.push('--remote-allow-origins=*');
  return a;
}

module.exports = { openDevtoolsFrontend, exportDevtoolsHar, devtoolsLaunchArgs };
