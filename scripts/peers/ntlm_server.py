"""An NTLM or Negotiate acceptor that is not why401's: pyspnego's, behind Python's HTTP server.

Usage: NTLM_USER_FILE=users.txt python3 ntlm_server.py PORT [ntlm|negotiate]
The user file has DOMAIN:USER:PASSWORD lines (pyspnego's format). Each TCP connection keeps
its own security context, as IIS does, so the handshake must stay on one connection. With
`negotiate` the scheme is `Negotiate` and pyspnego's SPNEGO acceptor checks the mechListMIC as
Windows does (RFC 4178 §5, MS-SPNG); Kerberos is not offered, so SPNEGO carries NTLM.
"""

import base64
import http.server
import sys

import spnego
import spnego.exceptions


PROTOCOL = sys.argv[2] if len(sys.argv) > 2 else "ntlm"
SCHEME = {"ntlm": "NTLM", "negotiate": "Negotiate"}[PROTOCOL]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.ctx = None

    def reply(self, status, headers=(), body=""):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith(SCHEME + " "):
            self.ctx = None
            return self.reply(401, [("WWW-Authenticate", SCHEME)])
        token = base64.b64decode(auth[len(SCHEME) + 1 :])
        if self.ctx is None:
            self.ctx = spnego.server(protocol=PROTOCOL)
        try:
            out = self.ctx.step(token)
        except spnego.exceptions.SpnegoError as e:
            print(f"refused: {e!r}", file=sys.stderr, flush=True)
            self.ctx = None
            return self.reply(401, [("WWW-Authenticate", SCHEME)], f"{e}\n")
        if not self.ctx.complete:
            return self.reply(401, [("WWW-Authenticate", f"{SCHEME} " + base64.b64encode(out).decode())])
        user = self.ctx.client_principal
        self.ctx = None
        headers = [("Content-Type", "text/plain")]
        if out and self.path.startswith("/corrupt-final/"):
            # A final token whose mechListMIC cannot verify: what a client sees when something
            # between it and the server altered the exchange.
            out = out[:-1] + bytes([out[-1] ^ 1])
        if out:
            # SPNEGO's last token (accept-completed, with the acceptor's mechListMIC) goes back
            # with the 200, as IIS sends it: the client checks it.
            headers.append(("WWW-Authenticate", f"{SCHEME} " + base64.b64encode(out).decode()))
        self.reply(200, headers, f"hello {user}\n")

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
