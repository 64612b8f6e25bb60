#!/usr/bin/env node
// Records a scenario with Debian's headless Chromium, producing
//   PREFIX.<mode>.netlog.json   Chrome NetLog (--log-net-log), mode = sensitive | default
//   PREFIX.<mode>.pw.har        Playwright's own HAR writer (recordHar, content:'omit')
//   PREFIX.devtools.sanitized.har / PREFIX.devtools.sensitive.har   (with --devtools-har)
//                               the DevTools frontend's own HAR writer (HAR.Writer),
//                               run headlessly in the bundled frontend; see devtools_har.js
//
// usage: node capture.js URL PREFIX [--user U --pass P] [--modes sensitive,default]
//                        [--fetch] [--devtools-har] [--kill] [--chromium PATH]
//   --fetch         URL is a page that fetch()es an API and sets window.__done = true
//   --api API       once URL has loaded, fetch(API) from it (cross-origin when API is on another
//                   origin), with each --api-header 'Name: value'; waits for the answer or error
//   --proxy URL     send everything through this HTTP proxy
//   --map HOST      resolve HOST to 127.0.0.1 (a test realm's names: web.lab.test)
//   --allow-auth P  --auth-server-allowlist=P: Negotiate/NTLM with the session's credentials
//   --chrome-arg A  one more Chromium flag
//   --persistent    a normal profile instead of Playwright's private context (ambient auth)
//   --negotiate-ready  with --persistent: the profile's Local State as after a first Negotiate
//                   challenge (Linux Chromium refuses the first one of a profile) and with the
//                   SPN taken from the URL's host, not a canonical-name lookup
//   --devtools-har  in each run also export DevTools HARs (adds a ws connection to the
//                   NetLog: the frontend talks CDP over ws://127.0.0.1:<devport>)
//   --keep-dns      do not pass --host-resolver-rules (see below)
//   --kill          SIGKILL Chromium instead of closing it (to see a truncated NetLog)
'use strict';
const fs = require('fs');
const path = require('path');
const net = require('net');
const { chromium } = require('playwright-core');
const { exportDevtoolsHar, openDevtoolsFrontend, devtoolsLaunchArgs } = require('./devtools_har');

function parseArgs(argv) {
  const o = { modes: ['sensitive', 'default'], chromium: '/usr/lib/chromium/chromium' };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--user') o.user = argv[++i];
    else if (a === '--pass') o.pass = argv[++i];
    else if (a === '--modes') o.modes = argv[++i].split(',');
    else if (a === '--fetch') o.fetch = true;
    else if (a === '--devtools-har') o.devtoolsHar = true;
    else if (a === '--kill') o.kill = true;
    else if (a === '--keep-dns') o.keepDns = true;
    else if (a === '--chromium') o.chromium = argv[++i];
    else if (a === '--api') o.api = argv[++i];
    else if (a === '--api-header') (o.apiHeaders = o.apiHeaders || []).push(argv[++i]);
    else if (a === '--proxy') o.proxy = argv[++i];
    else if (a === '--map') (o.map = o.map || []).push(argv[++i]);
    else if (a === '--allow-auth') o.allowAuth = argv[++i];
    else if (a === '--persistent') o.persistent = true;
    else if (a === '--negotiate-ready') o.negotiateReady = true;
    else if (a === '--chrome-arg') (o.chromeArgs = o.chromeArgs || []).push(argv[++i]);
    else pos.push(a);
  }
  if (pos.length !== 2) {
    console.error('usage: node capture.js URL PREFIX [--user U --pass P] [--modes sensitive,default] [--fetch] [--devtools-har] [--kill]');
    process.exit(2);
  }
  [o.url, o.prefix] = pos;
  return o;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}

async function captureOnce(o, mode) {
  const t0 = Date.now();
  const netlog = path.resolve(`${o.prefix}.${mode}.netlog.json`);
  const har = path.resolve(`${o.prefix}.${mode}.pw.har`);
  for (const f of [netlog, har]) fs.rmSync(f, { force: true });
  const args = [`--log-net-log=${netlog}`];
  // Even with Playwright's --disable-background-networking/--disable-component-update,
  // Chromium 156 still POSTs to accounts.google.com/ListAccounts and
  // update.googleapis.com (component updater).  Resolve every non-loopback name to
  // NXDOMAIN locally, so no DNS query leaves the box; the attempts stay in the NetLog
  // as URL_REQUESTs failing with net_error -105 (realistic noise).
  const maps = (o.map || []).map(h => `MAP ${h} 127.0.0.1 , `).join('');
  if (!o.keepDns) args.push(`--host-resolver-rules=${maps}MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost`);
  if (o.allowAuth) args.push(`--auth-server-allowlist=${o.allowAuth}`);
  args.push(...(o.chromeArgs || []));
  if (mode === 'sensitive') args.push('--net-log-capture-mode=IncludeSensitive');
  else if (mode === 'everything') args.push('--net-log-capture-mode=Everything');
  // 'default' = no capture-mode flag (Chromium's NetLogCaptureMode::kDefault)
  let devport;
  if (o.devtoolsHar) { devport = await freePort(); args.push(...devtoolsLaunchArgs(devport)); }

  const launch = { executablePath: o.chromium, headless: true, args };
  // Loopback is bypassed by default: '<-loopback>' sends it through the proxy too.
  if (o.proxy) launch.proxy = { server: o.proxy, bypass: '<-loopback>' };
  const ctxOpts = { recordHar: { path: har, content: 'omit' } };
  if (o.user !== undefined) ctxOpts.httpCredentials = { username: o.user, password: o.pass ?? '' };
  let browser, context;
  if (o.persistent) {
    // A normal profile, not an off-the-record one: ambient authentication (Negotiate with the
    // user's Kerberos tickets) is off in private contexts.
    const profile = fs.mkdtempSync(path.join(require('os').tmpdir(), 'why401-profile-'));
    if (o.negotiateReady) {
      // Chromium on Linux loads the GSSAPI library only once Local State records that a
      // Negotiate challenge was seen (net.received_http_auth_negotiate_headers): a fresh
      // profile answers its first challenge with ERR_UNSUPPORTED_AUTH_SCHEME. And behind
      // --host-resolver-rules the canonical name is the address, so the SPN would be
      // HTTP@127.0.0.1 unless the CNAME lookup is off (policy DisableAuthNegotiateCnameLookup).
      fs.writeFileSync(path.join(profile, 'Local State'), JSON.stringify({
        net: { received_http_auth_negotiate_headers: true },
        auth: { disable_negotiate_cname_lookup: true },
      }));
    }
    context = await chromium.launchPersistentContext(profile, { ...launch, ...ctxOpts });
    browser = { close: () => context.close() };
  } else {
    browser = await chromium.launch(launch);
    context = await browser.newContext(ctxOpts);
  }
  const page = await context.newPage();

  let frontend;
  if (o.devtoolsHar) frontend = await openDevtoolsFrontend(browser, context, page, devport);

  const resp = await page.goto(o.url, { waitUntil: 'load' }).catch(e => ({ error: e.message }));
  if (o.fetch) await page.waitForFunction(() => window.__done === true, null, { timeout: 10000 });
  if (o.api) {
    const headers = {};
    for (const h of o.apiHeaders || []) {
      const i = h.indexOf(':');
      headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
    }
    const apiResult = await page.evaluate(async ({ api, headers }) => {
      try {
        // A 401 the page cannot answer may leave the fetch waiting on an auth prompt that
        // headless Chromium never shows: give up after 5 s, the NetLog has what happened.
        const r = await fetch(api, { headers, credentials: 'include', signal: AbortSignal.timeout(5000) });
        return `${r.status}`;
      } catch (e) {
        return `error: ${e.message}`;
      }
    }, { api: o.api, headers });
    console.error(`fetch ${o.api}: ${apiResult}`);
  }
  const status = resp && resp.status ? resp.status() : resp && resp.error;
  const title = await page.title().catch(() => '?');

  if (frontend) {
    for (const sanitize of [true, false]) {
      const out = path.resolve(`${o.prefix}.${mode}.devtools.${sanitize ? 'sanitized' : 'sensitive'}.har`);
      fs.writeFileSync(out, await exportDevtoolsHar(frontend, sanitize));
    }
    await frontend.close();
  }

  if (o.kill) {
    // find the browser process among our children and SIGKILL it (no clean shutdown)
    const { execFileSync } = require('child_process');
    let killed = null;
    const pids = execFileSync('pgrep', ['-P', String(process.pid)]).toString().trim().split('\n');
    for (const pid of pids) {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('--log-net-log=' + netlog)) { process.kill(Number(pid), 'SIGKILL'); killed = pid; }
    }
    console.error(`SIGKILLed browser pid ${killed}`);
    await new Promise(r => setTimeout(r, 500));
    await browser.close().catch(() => {});
  } else {
    await context.close();   // flushes the Playwright HAR
    await browser.close();   // Browser.close over CDP: clean exit, NetLog gets its closing "]}"
  }
  const ms = Date.now() - t0;
  console.log(JSON.stringify({ mode, url: o.url, status, title, ms, netlog, har }));
}

(async () => {
  const o = parseArgs(process.argv.slice(2));
  for (const mode of o.modes) await captureOnce(o, mode);
})().catch(e => { console.error(e); process.exit(1); });
