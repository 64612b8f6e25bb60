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
const { run, logOut, fail } = require('./gate_lib');

run('gate_browser.js', async (context, page, base, user, password) => {
  const out = {};
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

  await logOut(page);
  out.after_logout = {
    url: page.url(),
    cookies: (await context.cookies()).map(c => c.name),
  };
  await page.goto(`${base}/notes`);
  out.again = { url: page.url() };
  return out;
}).catch(fail);
