#!/usr/bin/env python3
"""Stand-ins for the outside world of notifications, in one process, on loopback only.

- An SMTP server (aiosmtpd from PyPI): every message accepted is written into DIR.
- An HTTP server (the standard library) standing in for the SMS gateway: POST
  {"to", "text", "idempotency_key"} as JSON; a 2xx answer means accepted.

Each delivered message becomes one file DIR/<UTC time>-<random>-<channel>.json, written under
a temporary name and renamed (readers never see half a file), names sorting by time:

  {"channel": "email"|"sms", "to": "...", "subject": "..."|null, "body": "...",
   "idempotency_key": "...", "received_at": "2025-06-02T10:00:00.123456Z"}

Every SMS request (also refused or repeated ones) is appended to DIR/sms-requests.jsonl as
{"idempotency_key", "header_key", "authorization", "status", "received_at"}. A repeated key
answers 200 without a second file, as a real gateway drops a duplicate.

Usage: sink.py --dir DIR [--smtp-port N] [--http-port N] [--sms-fail N] [--sms-fail-status S]
               [--sms-delay SECONDS]
Port 0 (the default) picks a free one. Prints one line "ready smtp=<port> http=<port>" on
stdout when both listen, then runs until killed.
"""

import argparse
import email
import email.policy
import json
import os
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def now_text():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_message(directory, record):
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    name = f"{stamp}-{uuid.uuid4().hex}-{record['channel']}.json"
    temporary = os.path.join(directory, f".{name}.tmp")
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(record, out, ensure_ascii=False, indent=2)
    os.replace(temporary, os.path.join(directory, name))


class MailHandler:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content().replace("\r\n", "\n") if part is not None else ""
        for recipient in envelope.rcpt_tos:
            write_message(
                self.directory,
                {
                    "channel": "email",
                    "to": recipient,
                    "subject": str(message.get("Subject", "")),
                    "body": body,
                    "idempotency_key": str(message.get("X-Borgerportal-Idempotency-Key", "")),
                    "received_at": now_text(),
                },
            )
        return "250 OK"


def sms_handler(directory, fail_count, fail_status, delay):
    lock = threading.Lock()
    state = {"requests": 0, "delivered": set()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
            if delay > 0:
                time.sleep(delay)
            with lock:
                state["requests"] += 1
                if not isinstance(payload, dict) or not all(
                    isinstance(payload.get(k), str) for k in ("to", "text", "idempotency_key")
                ):
                    status = 400
                elif state["requests"] <= fail_count:
                    status = fail_status
                else:
                    status = 200
                    key = payload["idempotency_key"]
                    if key not in state["delivered"]:
                        state["delivered"].add(key)
                        write_message(
                            directory,
                            {
                                "channel": "sms",
                                "to": payload["to"],
                                "subject": None,
                                "body": payload["text"],
                                "idempotency_key": key,
                                "received_at": now_text(),
                            },
                        )
                with open(os.path.join(directory, "sms-requests.jsonl"), "a", encoding="utf-8") as log:
                    log.write(
                        json.dumps(
                            {
                                "idempotency_key": (payload or {}).get("idempotency_key"),
                                "header_key": self.headers.get("Idempotency-Key"),
                                "authorization": self.headers.get("Authorization"),
                                "status": status,
                                "received_at": now_text(),
                            }
                        )
                        + "\n"
                    )
            answer = json.dumps({"status": "accepted" if status == 200 else "refused"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    return Handler


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--smtp-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--sms-fail", type=int, default=0, help="refuse the first N SMS requests")
    parser.add_argument("--sms-fail-status", type=int, default=500)
    parser.add_argument("--sms-delay", type=float, default=0.0, help="wait before each answer")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    # aiosmtpd's controller checks the port it was given by connecting to it, so it needs a
    # real port, not 0.
    smtp_port = args.smtp_port or free_port()
    controller = Controller(MailHandler(args.dir), hostname="127.0.0.1", port=smtp_port)
    controller.start()

    handler = sms_handler(args.dir, args.sms_fail, args.sms_fail_status, args.sms_delay)
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), handler)
    http.daemon_threads = True
    print(f"ready smtp={smtp_port} http={http.server_address[1]}", flush=True)
    try:
        http.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
