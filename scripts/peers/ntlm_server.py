"""An NTLM acceptor that is not why401's: pyspnego's, behind Python's HTTP server.

Usage: NTLM_USER_FILE=users.txt python3 ntlm_server.py PORT
The user file has DOMAIN:USER:PASSWORD lines (pyspnego's format). Each TCP connection keeps
its own security context, as IIS does, so the handshake must stay on one connection.
"""

import base64
import http.server
import sys

import spnego
import spnego.exceptions


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
        if not auth.startswith("NTLM "):
            self.ctx = None
            return self.reply(401, [("WWW-Authenticate", "NTLM")])
        token = base64.b64decode(auth[5:])
        if self.ctx is None:
            self.ctx = spnego.server(protocol="ntlm")
        try:
            out = self.ctx.step(token)
        except spnego.exceptions.SpnegoError as e:
            self.ctx = None
            return self.reply(401, [("WWW-Authenticate", "NTLM")], f"{e}\n")
        if not self.ctx.complete:
            return self.reply(401, [("WWW-Authenticate", "NTLM " + base64.b64encode(out).decode())])
        user = self.ctx.client_principal
        self.ctx = None
        self.reply(200, [("Content-Type", "text/plain")], f"hello {user}\n")

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
