"""The HTTP loop the REST org providers (Okta, Google Workspace) share: every attempt
counted, 5xx answers and timeouts retried with a short backoff, rate-limit answers waited
out within one bound for the whole fetch (a build must not spend its time waiting), and
nothing but the provider's own host ever sent a credential."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from .. import __version__
from ._model import OrgSourceError

__all__ = ["RestClient", "same_origin"]

TRIES = 3  # per request, for 5xx answers and transport errors
MAX_THROTTLES = 20  # per request: a limit that answers "wait 0 s" forever must still end
MIN_WAIT = 0.5


def same_origin(url: str, base: str) -> bool:
    """``url`` is on ``base``'s scheme, host and port: a next-page link elsewhere would
    otherwise carry the credential to another host."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


class RestClient:
    """One provider's requests. ``throttle(answer)`` says how long a rate-limit answer
    asks to wait (None: not a rate-limit answer)."""

    def __init__(
        self,
        title: str,
        *,
        timeout: float,
        throttle: Callable[[httpx.Response], float | None],
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.title = title
        self.requests = 0
        self.waited = 0.0
        self._throttle = throttle
        self._sleep = sleep
        self._max_wait = max_wait
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": f"backlot/{__version__}", "Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The first answer that is neither a 5xx (retried) nor a rate limit (waited out);
        the caller judges its status. Raises OrgSourceError when none comes."""
        host = urlsplit(url).netloc
        failures = 0
        throttles = 0
        while True:
            self.requests += 1
            try:
                answer = self._http.request(method, url, headers=headers, data=data)
            except httpx.HTTPError as exc:
                failures += 1
                if failures >= TRIES:
                    raise OrgSourceError(
                        f"{self.title} at {host} did not answer ({type(exc).__name__}, "
                        f"{failures} tries)"
                    ) from None
                self._sleep(float(2 ** (failures - 1)))
                continue
            wait = self._throttle(answer)
            if wait is not None:
                throttles += 1
                wait = max(MIN_WAIT, wait)
                if self.waited + wait > self._max_wait or throttles > MAX_THROTTLES:
                    raise OrgSourceError(
                        f"{self.title} rate-limited the requests (it asked to wait "
                        f"{math.ceil(wait)} s after {math.ceil(self.waited)} s already waited; "
                        f"at most {math.ceil(self._max_wait)} s are)"
                    )
                self.waited += wait
                self._sleep(wait)
                continue
            if answer.status_code >= 500:
                failures += 1
                if failures < TRIES:
                    self._sleep(float(2 ** (failures - 1)))
                    continue
            return answer
