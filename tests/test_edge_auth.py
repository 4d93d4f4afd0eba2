"""The private portal's sign-in check (deploy/edge-auth), run in node as Lambda@Edge runs it:
the bundle ``backlot deploy edge-auth`` builds, unpacked, its handler fed Lambda@Edge
viewer-request events, talking to an OpenID Connect provider served here over HTTP (the
only fake: an IdP cannot run here), which signs real RS256 ID tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from generator.cli import main
from generator.deploy import EdgeAuthConfig, edge_auth_files, write_edge_auth_bundle
from tests.local_http import LocalServer

HOST = "portal.example.com"
CLIENT_ID = "backlot-portal"
CLIENT_SECRET = "s3cret with spaces&symbols"
CALLBACK = f"https://{HOST}/_auth/callback"

DRIVER = """
const readline = require("readline");
// The handler logs to stdout as Lambda does; the answers need stdout to themselves.
console.log = (...parts) => process.stderr.write(parts.join(" ") + "\\n");
const { handler } = require(process.argv[1] + "/index.js");
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let answer;
    try {
      answer = await handler(JSON.parse(line));
    } catch (err) {
      answer = { thrown: String(err) };
    }
    process.stdout.write(JSON.stringify(answer) + "\\n");
  });
});
"""


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeIdp(LocalServer):
    """Discovery, JWKS and a token endpoint that checks the client, the PKCE verifier and
    the redirect URI, and hands each code out once: what a real provider checks."""

    def __init__(self) -> None:
        self.key = _key()
        self.kid = "key-1"
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_status = 200
        self.jwks_fetches = 0
        self.token_requests: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.base,
            "aud": CLIENT_ID,
            "sub": "user-1",
            "email": "ada@example.com",
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any], key: Any = None, kid: str | None = None) -> str:
        return jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def issue_code(self, authorize_url: str, **claims: Any) -> str:
        """What the provider does after the user signs in: a code bound to the request."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        code = f"code-{len(self.codes)}"
        with self.lock:
            self.codes[code] = {
                "challenge": query["code_challenge"],
                "redirect_uri": query["redirect_uri"],
                "claims": self.claims(nonce=query["nonce"], **claims),
            }
        return code

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        if path == "/.well-known/openid-configuration":
            self._json(
                handler,
                200,
                {
                    "issuer": self.base,
                    "authorization_endpoint": self.base + "/authorize",
                    "token_endpoint": self.base + "/token",
                    "jwks_uri": self.base + "/jwks",
                },
            )
        elif path == "/jwks":
            self.jwks_fetches += 1
            self._json(handler, 200, self.jwks())
        elif path == "/token" and handler.command == "POST":
            length = int(handler.headers["Content-Length"])
            form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
            self.token_requests.append(form)
            self._json(handler, *self._token(handler.headers.get("Authorization", ""), form))
        else:
            self._json(handler, 404, {"error": "not_found"})

    def _token(self, authorization: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.token_status != 200:
            return self.token_status, {"error": "server_error"}
        expected = base64.b64encode(
            f"{CLIENT_ID}:{CLIENT_SECRET}".replace(" ", "+").replace("&", "%26").encode()
        ).decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            grant is None
            or grant["challenge"] != challenge
            or grant["redirect_uri"] != form.get("redirect_uri")
        ):
            return 400, {"error": "invalid_grant"}
        return 200, {"id_token": self.sign(grant["claims"]), "token_type": "Bearer"}

    @staticmethod
    def _json(handler: http.server.BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class Browser:
    """Drives the handler as a browser would: a cookie jar, requests as Lambda@Edge events."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.cookies: dict[str, str] = {}

    def request(self, uri: str, querystring: str = "", **extra_cookies: str) -> dict[str, Any]:
        headers: dict[str, list[dict[str, str]]] = {"host": [{"key": "Host", "value": HOST}]}
        jar = {**self.cookies, **extra_cookies}
        if jar:
            value = "; ".join(f"{k}={v}" for k, v in jar.items())
            headers["cookie"] = [{"key": "Cookie", "value": value}]
        event = {
            "Records": [
                {
                    "cf": {
                        "config": {"eventType": "viewer-request"},
                        "request": {
                            "clientIp": "203.0.113.7",
                            "method": "GET",
                            "uri": uri,
                            "querystring": querystring,
                            "headers": headers,
                        },
                    }
                }
            ]
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        assert "thrown" not in answer, answer
        for entry in answer.get("headers", {}).get("set-cookie", []):
            name, _, rest = entry["value"].partition("=")
            value, _, attributes = rest.partition(";")
            assert "HttpOnly" in attributes and "Secure" in attributes, entry
            assert "SameSite=Lax" in attributes, entry
            if "Max-Age=0" in attributes:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer

    def sign_in(self, idp: FakeIdp, uri: str = "/", querystring: str = "", **claims: Any) -> Any:
        """The whole round trip; returns the callback's answer."""
        login = self.request(uri, querystring)
        assert login["status"] == "302", login
        code = idp.issue_code(location(login), **claims)
        state = parse_qs(urlsplit(location(login)).query)["state"][0]
        return self.request("/_auth/callback", urlencode({"code": code, "state": state}))


def location(answer: dict[str, Any]) -> str:
    value: str = answer["headers"]["location"][0]["value"]
    return value


def forwarded(answer: dict[str, Any]) -> bool:
    """The request went on to the origin (a request has a uri; an answer has a status)."""
    return "uri" in answer and "status" not in answer


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: the Lambda@Edge function is JavaScript")
    return found


@pytest.fixture
def idp() -> Iterator[FakeIdp]:
    server = FakeIdp()
    server.start()
    yield server
    server.stop()


def edge_config(issuer: str, **changes: Any) -> EdgeAuthConfig:
    """Settings for the tests' IdP (the one the fake token endpoint accepts)."""
    settings: dict[str, Any] = {
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "portal_prefix": "portal/",
        "docs_prefix": "techdocs/",
    }
    settings.update(changes)
    return EdgeAuthConfig(**settings)


@pytest.fixture
def run_edge(node: str, tmp_path: Path) -> Iterator[Any]:
    processes: list[subprocess.Popen[str]] = []

    def start(config: EdgeAuthConfig) -> Browser:
        bundle = write_edge_auth_bundle(config, tmp_path / f"bundle-{len(processes)}.zip")
        unpacked = tmp_path / f"unpacked-{len(processes)}"
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(unpacked)
        log = (tmp_path / f"log-{len(processes)}.txt").open("w")
        process = subprocess.Popen(
            [node, "-e", DRIVER, str(unpacked)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        processes.append(process)
        return Browser(process)

    yield start
    for process in processes:
        process.kill()
        process.wait()
    # What Lambda@Edge would write to CloudWatch: never a token, code or cookie value.
    for log in tmp_path.glob("log-*.txt"):
        for line in log.read_text().splitlines():
            assert "eyJ" not in line and "code-" not in line, line
            json.loads(line)


@pytest.fixture
def browser(run_edge: Any, idp: FakeIdp) -> Browser:
    started: Browser = run_edge(edge_config(idp.base))
    return started


def test_a_reader_without_a_session_is_sent_to_the_identity_provider(
    browser: Browser, idp: FakeIdp
) -> None:
    answer = browser.request("/catalog/", "kind=api")
    assert answer["status"] == "302"
    target = urlsplit(location(answer))
    assert f"{target.scheme}://{target.netloc}{target.path}" == idp.base + "/authorize"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert "openid" in query["scope"].split()
    assert query["state"] and query["nonce"]
    # Nothing of the portal was served, and the answer is not cached by the CDN.
    assert answer["headers"]["cache-control"][0]["value"] == "no-store"


def test_signing_in_returns_to_the_page_and_then_serves_the_portal(
    browser: Browser, idp: FakeIdp
) -> None:
    back = browser.sign_in(idp, "/catalog/", "kind=api")
    assert back["status"] == "302"
    assert location(back) == "/catalog/?kind=api"
    # The code was exchanged with the verifier only this browser held.
    assert idp.token_requests[-1]["code_verifier"]
    assert not [name for name in browser.cookies if "-login-" in name]

    page = browser.request("/catalog/", "kind=api", theme="dark")
    assert forwarded(page)
    assert page["uri"] == "/portal/catalog/index.html"
    assert page["querystring"] == "kind=api"
    # The session is not sent on to the origin; other cookies are.
    assert page["headers"]["cookie"] == [{"key": "Cookie", "value": "theme=dark"}]

    docs = browser.request("/docs/default/component/payments/")
    assert docs["uri"] == "/techdocs/default/component/payments/index.html"
    folder = browser.request("/catalog")
    assert folder["status"] == "301"
    assert location(folder) == "/catalog/"
    assert browser.request("/_backlot/publish.json")["status"] == "404"


@pytest.mark.parametrize(
    ("why", "claims", "how"),
    [
        ("expired", {"exp": int(time.time()) - 600}, None),
        ("another audience", {"aud": "someone-else"}, None),
        ("another issuer", {"iss": "https://evil.example"}, None),
        ("not valid yet", {"nbf": int(time.time()) + 3600}, None),
        ("no subject", {"sub": None}, None),
        ("signed with another key", {}, "other-key"),
        ("alg none", {}, "none"),
        ("HS256 keyed with the public key", {}, "hs256"),
        ("payload changed after signing", {}, "tampered"),
    ],
)
def test_a_session_that_does_not_verify_is_never_served(
    browser: Browser, idp: FakeIdp, why: str, claims: dict[str, Any], how: str | None
) -> None:
    all_claims = idp.claims(**claims)
    if how == "other-key":
        token = idp.sign(all_claims, key=_key())
    elif how == "none":
        token = jwt.encode(all_claims, None, algorithm="none")
    elif how == "hs256":
        # The classic confusion: the public key (which anyone has) as an HMAC secret.
        public = RSAAlgorithm.to_jwk(idp.key.public_key()).encode()
        head = _b64({"alg": "HS256", "typ": "JWT", "kid": idp.kid})
        signed = f"{head}.{_b64(all_claims)}"
        mac = hmac.new(public, signed.encode(), hashlib.sha256).digest()
        token = f"{signed}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    elif how == "tampered":
        head, _, signature = idp.sign(all_claims).split(".")
        token = f"{head}.{_b64({**all_claims, 'sub': 'admin'})}.{signature}"
    else:
        token = idp.sign(all_claims)
    answer = browser.request("/catalog/", **{"backlot-session.0": token})
    assert not forwarded(answer), why
    assert answer["status"] == "302"
    assert location(answer).startswith(idp.base + "/authorize")


def test_a_valid_session_cookie_alone_is_enough(browser: Browser, idp: FakeIdp) -> None:
    # The control for the refusals above: the same request with a good token goes through.
    answer = browser.request("/", **{"backlot-session.0": idp.sign(idp.claims())})
    assert forwarded(answer)
    assert answer["uri"] == "/portal/index.html"


def test_a_callback_this_browser_did_not_start_is_refused(browser: Browser, idp: FakeIdp) -> None:
    login = browser.request("/catalog/")
    code = idp.issue_code(location(login))
    state = parse_qs(urlsplit(location(login)).query)["state"][0]
    # Another browser (login CSRF): no binding cookie.
    other = Browser(browser.process)
    answer = other.request("/_auth/callback", urlencode({"code": code, "state": state}))
    assert answer["status"] == "400"
    assert not any(name.startswith("backlot-session.") for name in other.cookies)
    # A state with a changed return path no longer matches its signature.
    body, _, mac = state.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["r"] = "/elsewhere/"
    forged = _b64(payload)
    answer = browser.request(
        "/_auth/callback", urlencode({"code": code, "state": forged + "." + mac})
    )
    assert answer["status"] == "400"


def test_a_code_is_good_once(browser: Browser, idp: FakeIdp) -> None:
    login = browser.request("/")
    code = idp.issue_code(location(login))
    state = parse_qs(urlsplit(location(login)).query)["state"][0]
    binding = {k: v for k, v in browser.cookies.items() if "-login-" in k}
    assert (
        browser.request("/_auth/callback", urlencode({"code": code, "state": state}))["status"]
        == "302"
    )
    replay = Browser(browser.process)
    answer = replay.request("/_auth/callback", urlencode({"code": code, "state": state}), **binding)
    assert answer["status"] == "400"
    assert not any(name.startswith("backlot-session.") for name in replay.cookies)


@pytest.mark.parametrize("uri", ["//evil.example/", "/\\evil.example/", "/\t/evil.example/"])
def test_after_sign_in_the_reader_stays_on_the_portal(
    browser: Browser, idp: FakeIdp, uri: str
) -> None:
    back = browser.sign_in(idp, uri)
    assert back["status"] == "302"
    assert location(back) == "/"


def test_an_identity_provider_that_is_down_gives_502_and_serves_nothing(
    run_edge: Any, idp: FakeIdp
) -> None:
    closed = LocalServer()
    closed.start()
    closed.stop()
    browser = run_edge(edge_config(closed.base))
    answer = browser.request("/catalog/")
    assert answer["status"] == "502"
    assert not forwarded(answer)
    # Down at the token endpoint, after the redirect: still 502 and no session.
    browser = run_edge(edge_config(idp.base))
    login = browser.request("/")
    code = idp.issue_code(location(login))
    idp.token_status = 503
    state = parse_qs(urlsplit(location(login)).query)["state"][0]
    answer = browser.request("/_auth/callback", urlencode({"code": code, "state": state}))
    assert answer["status"] == "502"
    assert not any(name.startswith("backlot-session.") for name in browser.cookies)


def test_only_the_allowed_domains_get_in(run_edge: Any, idp: FakeIdp) -> None:
    browser = run_edge(edge_config(idp.base, allowed_email_domains=("Example.com",)))
    assert browser.sign_in(idp, email="mallory@example.org")["status"] == "403"
    assert browser.sign_in(idp, email="ada@example.com", email_verified=False)["status"] == "403"
    assert browser.sign_in(idp, email="ada@example.com")["status"] == "302"
    assert forwarded(browser.request("/"))


def test_a_large_token_is_split_across_cookies_and_still_works(
    browser: Browser, idp: FakeIdp
) -> None:
    browser.sign_in(idp, groups=[f"team-with-a-long-name-{i}" for i in range(250)])
    chunks = sorted(name for name in browser.cookies if name.startswith("backlot-session."))
    assert len(chunks) >= 2
    assert all(len(browser.cookies[name]) < 4000 for name in chunks)
    assert forwarded(browser.request("/"))


def test_a_rotated_signing_key_is_fetched_when_a_new_token_names_it(
    browser: Browser, idp: FakeIdp
) -> None:
    browser.sign_in(idp)
    assert forwarded(browser.request("/"))
    idp.key, idp.kid = _key(), "key-2"
    browser.cookies.clear()
    assert browser.sign_in(idp)["status"] == "302"
    assert forwarded(browser.request("/"))
    assert idp.jwks_fetches == 2


def test_public_paths_need_no_session_and_nothing_else_slips_through(
    run_edge: Any, idp: FakeIdp
) -> None:
    browser = run_edge(edge_config(idp.base, public_paths=("/badges/", "/catalog.json")))
    badge = browser.request("/badges/default/component/payments/owner.svg")
    assert forwarded(badge)
    assert badge["uri"] == "/portal/badges/default/component/payments/owner.svg"
    assert forwarded(browser.request("/catalog.json"))
    for uri in (
        "/badges/../catalog/",
        "/badges/%2e%2e/catalog/",
        "/badges//x",
        "/badges",
        "/catalog.json/",
        "/catalog/",
    ):
        answer = browser.request(uri)
        assert answer["status"] == "302", uri
        assert location(answer).startswith(idp.base), uri


def test_logging_out_clears_the_session(browser: Browser, idp: FakeIdp) -> None:
    browser.sign_in(idp)
    assert forwarded(browser.request("/"))
    answer = browser.request("/_auth/logout")
    assert answer["status"] == "200"
    assert not any(name.startswith("backlot-session.") for name in browser.cookies)
    assert browser.request("/")["status"] == "302"


def test_the_bundle_is_the_function_with_this_portals_settings(tmp_path: Path) -> None:
    config = edge_config("https://login.example.com/oauth2/default")
    files = edge_auth_files(config)
    assert sorted(files) == ["config.json", "index.js", "viewer-request.js"]
    mapping = files["viewer-request.js"].decode()
    assert 'var PORTAL_PREFIX = "portal/";' in mapping
    assert 'var DOCS_PREFIX = "techdocs/";' in mapping
    assert "${" not in mapping
    settings = json.loads(files["config.json"])
    assert settings["issuer"] == "https://login.example.com/oauth2/default"
    assert "portal_prefix" not in settings
    # Same settings, same bytes: a redeploy of nothing new is recognisable.
    first = write_edge_auth_bundle(config, tmp_path / "a.zip").read_bytes()
    assert write_edge_auth_bundle(config, tmp_path / "b.zip").read_bytes() == first


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "http://login.example.com"}, "not an https URL"),
        ({"client_secret": ""}, "needs the client secret"),
        ({"allowed_email_domains": ("not a domain",)}, "not an e-mail domain"),
        ({"portal_prefix": 'x"; evil(); "'}, "not a key prefix"),
        ({"hmac_key": "c2hvcnQ"}, "at least 32 random bytes"),
        ({"scope": "email"}, "must include openid"),
        ({"public_paths": ("/",)}, "not a public path"),
        ({"public_paths": ("/badges/../",)}, "not a public path"),
    ],
)
def test_settings_that_would_not_work_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        edge_config(**{"issuer": "https://login.example.com", **changes})


def test_deploy_edge_auth_writes_the_bundle_from_the_portals_settings(tmp_path: Path) -> None:
    (tmp_path / "backlot.yaml").write_text("publish:\n  prefix: portal\n")
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    result = CliRunner().invoke(
        main,
        [
            "deploy",
            "edge-auth",
            "--config",
            str(tmp_path / "backlot.yaml"),
            "--issuer",
            "https://login.example.com",
            "--client-id",
            CLIENT_ID,
            "--allow-domain",
            "example.com",
            "-o",
            str(tmp_path / "edge-auth.zip"),
        ],
        env={"BACKLOT_OIDC_CLIENT_SECRET": CLIENT_SECRET, "BACKLOT_EDGE_AUTH_KEY": key},
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "edge-auth.zip") as archive:
        settings = json.loads(archive.read("config.json"))
        mapping = archive.read("viewer-request.js").decode()
    assert settings["client_secret"] == CLIENT_SECRET
    assert settings["hmac_key"] == key
    assert settings["allowed_email_domains"] == ["example.com"]
    assert 'PORTAL_PREFIX = "portal/"' in mapping
    assert 'DOCS_PREFIX = "portal/docs/"' in mapping
    # What deploy/edge-auth.yaml asks for: Lambda's own CodeSha256 of the zip.
    digest = hashlib.sha256((tmp_path / "edge-auth.zip").read_bytes()).digest()
    assert f"CodeSha256: {base64.b64encode(digest).decode()}" in result.output
    assert f"backlot/edge-auth-{digest.hex()[:12]}.zip" in result.output
    # The secret is in the zip, never on the terminal.
    assert CLIENT_SECRET not in result.output
    assert "holds the client secret" in result.output

    refused = CliRunner().invoke(
        main,
        ["deploy", "edge-auth", "--issuer", "ftp://x", "--client-id", "c", "-o", "x.zip"],
        env={"BACKLOT_OIDC_CLIENT_SECRET": ""},
    )
    assert refused.exit_code != 0
    assert "issuer" in refused.output and "not an https URL" in refused.output
