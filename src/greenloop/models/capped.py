"""A bound on what an HTTP provider may send: its reply, however framed, is read through a transport that stops
after a number of bytes. read_stream (loops.py) cuts a reply with too many pieces; this one is the backstop for
a reply the SDK reads whole before greenloop sees a piece of it (one server-sent event without end, a body)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx

BYTES_PER_TOKEN = 1024  # a streamed token costs a chunk of JSON (~200 bytes); far more is no reply of that size
SLACK_BYTES = 1 << 20  # headers, the usage chunk, a model list


def byte_cap(max_tokens: int) -> int:
    return max_tokens * BYTES_PER_TOKEN + SLACK_BYTES


def capped_client(client: Callable[..., Any], max_tokens: int) -> Any:
    """An SDK's own HTTP client (`DefaultHttpxClient`: its timeouts and limits) on the capped transport."""
    return client(transport=CappedTransport(byte_cap(max_tokens)))


class ReplyTooLarge(httpx.ReadError):
    """The provider sent more than any reply of the token cap needs."""


def too_large(exc: BaseException) -> ReplyTooLarge | None:
    """The ReplyTooLarge behind an SDK's error (it may wrap it in a connection error), if that is the cause."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, ReplyTooLarge):
        seen = seen.__cause__ or seen.__context__
    return seen


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int) -> None:
        self._inner, self._limit = inner, limit

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                self._inner.close()
                raise ReplyTooLarge(f"the provider sent more than {self._limit} bytes for one reply")
            yield chunk

    def close(self) -> None:
        self._inner.close()


class CappedTransport(httpx.BaseTransport):
    """httpx's own transport, each response's body limited to `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self._inner = httpx.HTTPTransport()
        self._limit = limit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if not isinstance(response.stream, httpx.SyncByteStream):  # not so for httpx's own transport
            return response
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_CappedStream(response.stream, self._limit), extensions=response.extensions,
                              request=request)

    def close(self) -> None:
        self._inner.close()
