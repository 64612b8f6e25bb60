// What the gateway's browser scripts share: Debian's headless Chromium launched as the tests
// need it (no network but loopback, the test's own certificate accepted), the password read
// from standard input (never from argv), and one JSON object printed at the end.
'use strict';
const { chromium } = require('playwright-core');

/// Runs `drive(context, page, base, user, password)` and prints what it returns as JSON.
async function run(usage, drive) {
  const [base, user] = process.argv.slice(2);
  if (!base || !user) {
    console.error(`usage: node ${usage} BASE USER  (password on stdin)`);
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
  let out;
  try {
    // The gateway's certificate is the test's own, made for localhost.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.on('console', (m) => console.error('console', m.text()));
    out = await drive(context, page, base, user, password);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}

/// Logs out with a form POST, as the gateway's logout is meant to be used.
async function logOut(page) {
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
}

function fail(e) {
  console.error((e && e.stack) || String(e));
  process.exit(1);
}

module.exports = { run, logOut, fail };
