#!/usr/bin/env node
// Drives Debian's headless Chromium, with its CDP virtual authenticator (a platform
// authenticator with user verification, as a laptop's fingerprint reader is), through why401
// gate's passkey flows, as a user does, and prints what it saw as one JSON object (the Rust
// test asserts on it):
//   1. open BASE/vault/x (a two_factor rule), sign in with the password: the second-factor page
//      offers enrolment; "Register a passkey": the recovery codes shown once; "Continue": the
//      app;
//   2. the factors page: a second passkey, on a second authenticator (the first one removed,
//      as a lost phone is), registered there;
//   3. sign out, sign in again: the second-factor page; "Use a passkey": the app;
//   4. what the authenticators hold (credentials, their sign counts, the relying party).
//
// usage: node gate_webauthn.js BASE USER   (the password on standard input, never in argv)
'use strict';
const { run, logOut, fail } = require('./gate_lib');

run('gate_webauthn.js', async (context, page, base, user, password) => {
  const out = {};
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const authenticator = async () =>
    (
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      })
    ).authenticatorId;
  const held = async (id) =>
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId: id })).credentials.map((c) => ({
      rpId: c.rpId,
      signCount: c.signCount,
      resident: c.isResidentCredential,
      userHandle: c.userHandle,
    }));
  const status = async () => (await page.textContent('#webauthn-status').catch(() => '')) || '';
  const signIn = async () => {
    await page.goto(`${base}/vault/x`);
    await page.fill('#username', user);
    await page.fill('#password', password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  };

  // 1. Enrolment after the password.
  const first = await authenticator();
  await signIn();
  out.enrol_page = { url: page.url(), title: await page.title() };
  await page.click('#passkey-register');
  await page.waitForSelector('#recovery-codes:not([hidden])', { timeout: 15000 }).catch(async () => {
    throw new Error('no recovery codes shown; status: ' + (await status()));
  });
  out.recovery_codes = (await page.textContent('#recovery-codes')).split('\n');
  await Promise.all([page.waitForNavigation(), page.click('#continue-link')]);
  out.after_enrol = { url: page.url(), body: await page.textContent('body') };
  out.first_authenticator = await held(first);

  // 2. A second passkey on another authenticator, from the factors page.
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: first });
  const second = await authenticator();
  await page.goto(`${base}/.why401/factors`);
  await Promise.all([
    page.waitForNavigation({ timeout: 15000 }),
    page.click('#passkey-register'),
  ]).catch(async (e) => {
    throw new Error('the second registration: ' + e.message + '; status: ' + (await status()));
  });
  out.factors = { url: page.url(), list: await page.textContent('#factors') };

  // 3. Sign out, sign in, the passkey.
  await logOut(page);
  await signIn();
  out.ask_page = { url: page.url(), title: await page.title() };
  await Promise.all([
    page.waitForNavigation({ timeout: 15000 }),
    page.click('#passkey-use'),
  ]).catch(async (e) => {
    throw new Error('the passkey sign-in: ' + e.message + '; status: ' + (await status()));
  });
  out.after_passkey = { url: page.url(), body: await page.textContent('body') };
  out.second_authenticator = await held(second);
  return out;
}).catch(fail);
