"""A tiny OpenAI-compatible (and Anthropic Messages) HTTP server on 127.0.0.1, for provider tests.

It answers from a list of reply texts, records every request (path, headers, body), and can be told
to fail the first N requests with a status code to exercise the SDKs' retries."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeServer:
    def __init__(self, replies: list[str], fail_first: int = 0, fail_status: int = 429,
                 chunk_delay: float = 0.0, chunk_size: int = 8) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.chunk_delay = chunk_delay
        self.chunk_size = chunk_size  # characters in one streamed chunk (the whole reply: one event)
        self.chunks_sent = 0  # streamed chunks the client took before it hung up (or all of them)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str) -> None:
                """Server-sent chunks of `chunk_size` characters, then the usage chunk, then [DONE]."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                base = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model}
                size = outer.chunk_size
                for i in range(0, len(text), size):
                    delta = {"index": 0, "delta": {"content": text[i:i + size]}, "finish_reason": None}
                    try:
                        self.wfile.write(f"data: {json.dumps({**base, 'choices': [delta]})}\n\n".encode())
                        self.wfile.flush()
                    except OSError:  # the client closed the stream: a real server stops generating here
                        return
                    outer.chunks_sent += 1
                    time.sleep(outer.chunk_delay)
                usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
                self.wfile.write(f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _stream_messages(self, model: str, text: str) -> None:
                """Anthropic's Messages stream: message_start, one text block in 8-character deltas, the end."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                start = {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
                         "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 11, "output_tokens": 0}}
                events = [("message_start", {"message": start}),
                          ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
                          *[("content_block_delta", {"index": 0, "delta": {"type": "text_delta",
                                                                             "text": text[i:i + outer.chunk_size]}})
                            for i in range(0, len(text), outer.chunk_size)],
                          ("content_block_stop", {"index": 0}),
                          ("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                             "usage": {"output_tokens": 7}}),
                          ("message_stop", {})]
                for name, data in events:
                    try:
                        self.wfile.write(f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode())
                        self.wfile.flush()
                    except OSError:  # the client closed the stream
                        return
                    if name == "content_block_delta":
                        outer.chunks_sent += 1
                        time.sleep(outer.chunk_delay)

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": None})
                self._send(200, {"object": "list", "data": [{"id": "test-model", "object": "model",
                                                             "type": "model", "display_name": "t",
                                                             "created_at": "2026-01-01T00:00:00Z"}],
                                 "has_more": False, "first_id": None, "last_id": None})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    self._send(outer.fail_status, {"error": {"message": "try later", "type": "rate_limit"}})
                    return
                text = outer.replies.pop(0) if outer.replies else "no more replies"
                if self.path.endswith("/messages") and body.get("stream"):
                    self._stream_messages(body["model"], text)
                    return
                if self.path.endswith("/messages"):
                    self._send(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                                     "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                                     "stop_sequence": None, "usage": {"input_tokens": 11, "output_tokens": 7}})
                    return
                if body.get("stream"):
                    self._stream(body["model"], text)
                    return
                self._send(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": text}}],
                                 "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def steps(self) -> list[str]:
        return [r["headers"].get("x-greenloop-step", "") for r in self.requests]
