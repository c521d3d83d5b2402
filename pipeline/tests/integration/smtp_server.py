"""An SMTP server for the email alert test: aiosmtpd on 127.0.0.1 (a free port), STARTTLS
required with the certificate given, AUTH (PLAIN/LOGIN, after TLS only) accepting one
account. Every message received is appended as one JSON line to the output file. Prints
"READY <port>" once listening; stops when standard input closes.

usage: smtp_server.py CERT KEY USER PASSWORD OUTPUT
"""

import email
import email.policy
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def main():
    cert, key, user, password, output = sys.argv[1:6]

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            with open(output, "a", encoding="utf-8") as f:
                f.write(
                    json.dumps(
                        {
                            "mail_from": envelope.mail_from,
                            "rcpt_tos": envelope.rcpt_tos,
                            "tls": session.ssl is not None,
                            "authenticated": bool(session.authenticated),
                            "subject": str(message["subject"]),
                            "message_id": str(message["message-id"]),
                            "body": message.get_content(),
                        }
                    )
                    + "\n"
                )
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", b"") or b""
        secret = getattr(auth_data, "password", b"") or b""
        ok = login.decode() == user and secret.decode() == password
        return AuthResult(success=ok, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
