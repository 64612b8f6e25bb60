// why401 gate: WebAuthn on the second-factor and factor pages. The server (webauthn-rs) makes
// the options and checks the answers; this only carries them between it and the browser.
'use strict';
(function () {
  const meta = (n) => (document.querySelector('meta[name="' + n + '"]') || {}).content || '';
  const status = document.getElementById('webauthn-status');
  const say = (t) => { if (status) status.textContent = t; };
  const dec = (s) => {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  };
  const enc = (buf) => {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  async function post(url, body) {
    const r = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-why401-csrf': meta('why401-csrf') },
      body: JSON.stringify(body),
    });
    const j = await r.json().catch(() => ({ error: 'the gateway answered ' + r.status }));
    if (!r.ok) throw new Error(j.error || 'the gateway answered ' + r.status);
    return j;
  }
  function finished(j) {
    const codes = document.getElementById('recovery-codes');
    if (j.recovery_codes && codes) {
      codes.textContent = j.recovery_codes.join('\n');
      codes.hidden = false;
      say('Your passkey is registered. Keep these recovery codes somewhere safe: each signs you in once if you lose your device. They are shown only now.');
      const link = document.getElementById('continue-link');
      link.href = j.redirect;
      document.getElementById('continue').hidden = false;
      return;
    }
    location.assign(j.redirect);
  }
  async function register() {
    say('Follow your browser\'s prompt…');
    const s = await post('/.why401/webauthn/register/start', {});
    const pk = s.options.publicKey;
    pk.challenge = dec(pk.challenge);
    pk.user.id = dec(pk.user.id);
    (pk.excludeCredentials || []).forEach((c) => { c.id = dec(c.id); });
    const c = await navigator.credentials.create({ publicKey: pk });
    const j = await post('/.why401/webauthn/register/finish', {
      ceremony: s.ceremony,
      rd: meta('why401-rd'),
      label: 'passkey',
      credential: {
        id: c.id,
        rawId: enc(c.rawId),
        type: c.type,
        response: {
          attestationObject: enc(c.response.attestationObject),
          clientDataJSON: enc(c.response.clientDataJSON),
          transports: c.response.getTransports ? c.response.getTransports() : undefined,
        },
        extensions: {},
      },
    });
    finished(j);
  }
  async function authenticate() {
    say('Follow your browser\'s prompt…');
    const s = await post('/.why401/webauthn/login/start', {});
    const pk = s.options.publicKey;
    pk.challenge = dec(pk.challenge);
    (pk.allowCredentials || []).forEach((c) => { c.id = dec(c.id); });
    const a = await navigator.credentials.get({ publicKey: pk });
    const j = await post('/.why401/webauthn/login/finish', {
      ceremony: s.ceremony,
      rd: meta('why401-rd'),
      credential: {
        id: a.id,
        rawId: enc(a.rawId),
        type: a.type,
        response: {
          authenticatorData: enc(a.response.authenticatorData),
          clientDataJSON: enc(a.response.clientDataJSON),
          signature: enc(a.response.signature),
          userHandle: a.response.userHandle ? enc(a.response.userHandle) : null,
        },
        extensions: {},
      },
    });
    finished(j);
  }
  const wire = (id, f) => {
    const b = document.getElementById(id);
    if (!b) return;
    if (!window.PublicKeyCredential) {
      b.disabled = true;
      say('This browser cannot use passkeys here (WebAuthn needs HTTPS and a host name).');
      return;
    }
    b.addEventListener('click', () => f().catch((e) => say('That did not work: ' + e.message)));
  };
  wire('passkey-register', register);
  wire('passkey-use', authenticate);
})();
