"""Slack's 3 seconds: until a request is acknowledged, a Web API call that fails is not retried.

Slack waits 3 seconds for every slash command, button and modal submission to be acknowledged,
and Bolt gives up on a listener that has not acknowledged by then (its answer is lost, and the
person sees an error). Eddy's Web API client retries a rate-limited call after `Retry-After`
and a failed connection or a server error after a backoff, which can take longer than that.
So while the listener handling a request still owes Slack its acknowledgement (`owing`), those
retry handlers decline: the call fails at once, and the listener (or, failing that,
`handlers.errors.guard`) answers the person within the 3 seconds. After the ack, calls are
retried as usual: nobody is left waiting on them.

    with owing(ack):            # the guard does this around every listener
        client.users_info(...)  # a 429 here raises at once instead of waiting Retry-After
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from slack_bolt import Ack
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

#: The acknowledgement the code running in this thread owes Slack, if any.
_owed: ContextVar[Ack | None] = ContextVar("eddy_owed_ack", default=None)


@contextmanager
def owing(ack: Ack) -> Iterator[None]:
    """Run the block on behalf of a request whose acknowledgement is `ack`."""
    token = _owed.set(ack)
    try:
        yield
    finally:
        _owed.reset(token)


def awaiting_ack() -> bool:
    """Whether the code running now handles a request that Slack still waits to see acked."""
    ack = _owed.get()
    return ack is not None and ack.response is None


class _NotBeforeTheAck(RetryHandler):
    """A retry handler that declines while an acknowledgement is owed (see the module)."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if awaiting_ack():
            return False
        return super().can_retry(state=state, request=request, response=response, error=error)


class RateLimitRetry(_NotBeforeTheAck, RateLimitErrorRetryHandler):
    """Waits out a 429's Retry-After, once nobody waits for an ack."""


class ConnectionRetry(_NotBeforeTheAck, ConnectionErrorRetryHandler):
    """Retries a failed connection, once nobody waits for an ack."""


class ServerErrorRetry(_NotBeforeTheAck, ServerErrorRetryHandler):
    """Retries a 5xx answer, once nobody waits for an ack."""


def retry_handlers() -> list[RetryHandler]:
    """The Web API client's retry handlers: patient, except while an ack is owed."""
    return [
        RateLimitRetry(max_retry_count=5),
        ConnectionRetry(max_retry_count=2),
        ServerErrorRetry(max_retry_count=2),
    ]
