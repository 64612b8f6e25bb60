#!/usr/bin/env node
// Drives Debian's headless Chromium through why401 gate's login page, as a user does, and
// prints what it saw as one JSON object (the Rust test asserts on it):
//   1. open BASE/notes without a session: where the browser lands (the login page);
//   2. type the user name and password, submit: where it lands, what the app received;
//   3. the session cookie's flags, as the browser stored them;
//   4. a fetch() from the page without the cookie: status, content type, body (a 401 problem
//      document, not the login page's HTML);
//   5. log out with the page's form POST: where it lands, and whether BASE/notes then asks to
//      log in again.
//
// usage: node gate_browser.js BASE USER   (the password on standard input, never in argv)
'use strict';
const { chromium } = require('playwright-core');

async function main() {
  const [base, user] = process.argv.slice(2);
  if (!base || !user) {
    console.error('usage: node gate_browser.js BASE USER  (password on stdin)');
    process.exit(2);
  }
  const password = require('fs').readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  const browser = await chromium.launch({
    executablePath: '/usr/lib/chromium/chromium',
    headless: true,
    args: [
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  const out = {};
  try {
    // The gateway's certificate is the test's own, made for localhost.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.on('console', m => console.error('console', m.text()));

    await page.goto(`${base}/notes?x=1`);
    out.first = { url: page.url(), title: await page.title() };

    await page.fill('#username', user);
    await page.fill('#password', password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    out.after_login = { url: page.url(), body: await page.textContent('body') };

    out.cookies = (await context.cookies()).map(c => ({
      name: c.name, secure: c.secure, httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path,
      domain: c.domain,
    }));

    out.fetch_without_cookie = await page.evaluate(async () => {
      const r = await fetch('/notes', { credentials: 'omit' });
      return {
        status: r.status,
        contentType: r.headers.get('content-type'),
        wwwAuthenticate: r.headers.get('www-authenticate'),
        body: await r.text(),
      };
    });
    out.fetch_with_cookie = await page.evaluate(async () => {
      const r = await fetch('/notes');
      return { status: r.status, contentType: r.headers.get('content-type') };
    });

    await Promise.all([
      page.waitForNavigation(),
      page.evaluate(() => {
        const f = document.createElement('form');
        f.method = 'post';
        f.action = '/.why401/logout';
        document.body.appendChild(f);
        f.submit();
      }),
    ]);
    out.after_logout = {
      url: page.url(),
      cookies: (await context.cookies()).map(c => c.name),
    };
    await page.goto(`${base}/notes`);
    out.again = { url: page.url() };
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}

main().catch(e => {
  console.error(e && e.stack || String(e));
  process.exit(1);
});
