#!/usr/bin/env python3
"""Starts a moto server on 127.0.0.1 for paperchart's tests and local fleet.

moto emulates S3, SQS and SNS (with S3 -> SQS notifications and SNS -> SQS delivery) well
enough; what paperchart needs from it beyond that is patched here before the server starts.

    .cache/moto-venv/bin/python scripts/moto_server.py --port 5000
"""
import argparse
import signal
import sys
import threading

from moto.server import ThreadedMotoServer
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import ReceiptHandleIsInvalid


def patch_sqs():
    """SQS refuses to change the visibility of a message through a receipt handle from an earlier
    delivery: once the message was received again, only the newest handle holds it. moto accepts
    any handle the message ever had, which would hide the case where a worker lost its lease."""
    original = sqs_models.SQSBackend.change_message_visibility

    def change_message_visibility(self, queue_name, receipt_handle, visibility_timeout):
        queue = self.get_queue(queue_name)
        for message in queue._messages:
            if message.had_receipt_handle(receipt_handle) and message.receipt_handle != receipt_handle:
                raise ReceiptHandleIsInvalid()
        return original(self, queue_name, receipt_handle, visibility_timeout)

    sqs_models.SQSBackend.change_message_visibility = change_message_visibility


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5000)
    a = ap.parse_args()
    patch_sqs()
    server = ThreadedMotoServer(ip_address=a.host, port=a.port, verbose=False)
    server.start()
    print(f"moto listening on http://{a.host}:{a.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
