"use strict";
// Lambda@Edge (viewer request, nodejs22.x or later, handler index.handler) in front of a private
// portal: every request needs a session from the organisation's OpenID Connect provider,
// then gets the public portal's path mapping (viewer-request.js, packaged next to this file
// with its prefixes filled in: CloudFront runs one viewer-request handler per behaviour, so
// this function replaces the CloudFront Function and must map paths itself).
//
// Built by generator/deploy (write_edge_auth_bundle) into a zip with config.json, because
// Lambda@Edge has no environment variables. Tested by tests/test_edge_auth.py.
//
//   /_auth/callback  the IdP's redirect: state checked, code exchanged, session cookie set
//   /_auth/logout    session cookies cleared
//   public_paths     no session needed (README badges); then viewer-request.js
//   anything else    a valid session → viewer-request.js; none or a bad one → the IdP
//
// The session is the IdP's ID token itself (verified on every request against the issuer's
// JWKS), so nothing has to be stored at the edge and the session ends when the token does.
// Cookies hold at most 4 KB each, and ID tokens with many claims are larger: the token is
// cut into chunks <name>.0, <name>.1, … (each well under 4 KB with its attributes), at most
// MAX_CHUNKS of them, so a request's headers stay far below CloudFront's limits.
//
// Fails closed: whatever cannot be checked (IdP unreachable, an exception) is answered here
// and never forwarded. Tokens, codes and verifiers are never logged.

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const path = require("path");
const querystring = require("querystring");

const CONFIG = JSON.parse(fs.readFileSync(path.join(__dirname, "config.json"), "utf8"));
const HMAC_KEY = Buffer.from(CONFIG.hmac_key, "base64url");
if (HMAC_KEY.length < 32) {
  throw new Error("config.json: hmac_key must be at least 32 bytes (base64url)");
}
const COOKIE = CONFIG.cookie_name;
const LOGIN_COOKIE = COOKIE + "-login-";

const CALLBACK = "/_auth/callback";
const LOGOUT = "/_auth/logout";
const STATE_SECONDS = 600;
const CHUNK_CHARS = 3800;
const MAX_CHUNKS = 4;
const CACHE_MS = 3600 * 1000;
// An unknown kid in a cookie refetches the JWKS at most this often: otherwise anyone could
// make every request a fetch from the IdP. A token straight from the token endpoint (a key
// rotation shows up there first) may always refetch.
const KID_REFETCH_MS = 60 * 1000;
// Lambda@Edge gives a viewer-request function at most 5 s; up to three fetches share this.
const BUDGET_MS = 4500;
const MAX_BODY_BYTES = 1024 * 1024;

const ALGORITHMS = new Map([
  ["RS256", { kty: "RSA", hash: "sha256" }],
  ["RS384", { kty: "RSA", hash: "sha384" }],
  ["RS512", { kty: "RSA", hash: "sha512" }],
  ["ES256", { kty: "EC", crv: "P-256", hash: "sha256", size: 64 }],
  ["ES384", { kty: "EC", crv: "P-384", hash: "sha384", size: 96 }],
]);

const STATUS_TEXT = {
  200: "OK",
  301: "Moved Permanently",
  302: "Found",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

// viewer-request.js is a CloudFront Function: top-level vars and `function handler`, no
// module system. Evaluated once, it stays the one copy of the portal's path mapping.
const rewriteHandler = new Function(
  fs.readFileSync(path.join(__dirname, "viewer-request.js"), "utf8") + "\nreturn handler;",
)();

/** The IdP could not be reached or answered nonsense: 502, nothing forwarded. */
class IdpError extends Error {}

/** The token endpoint refused the code (reused, expired, wrong client): the reader retries. */
class CodeRefused extends Error {}

function log(message, detail) {
  // Only fixed messages and short reasons of our own: never a token, code or cookie.
  console.log(JSON.stringify(detail === undefined ? { message } : { message, detail }));
}

// ---------------------------------------------------------------------------------------
// Entry point

exports.handler = async (event) => {
  try {
    return await handle(event.Records[0].cf.request);
  } catch (err) {
    if (err instanceof IdpError) {
      log("identity provider unavailable", err.message);
      return page(502, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a minute.");
    }
    // An error's message may quote what it failed on (JSON.parse does): log its kind only.
    log("request refused after an unexpected error", err && err.name);
    return page(500, "Sign-in check failed", "The portal could not check your session.");
  }
};

async function handle(request) {
  const deadline = Date.now() + BUDGET_MS;
  const uri = request.uri;
  if (uri === CALLBACK) {
    return callback(request, deadline);
  }
  if (uri === LOGOUT) {
    return logout();
  }
  if (uri === "/_auth" || uri.startsWith("/_auth/")) {
    return page(404, "Not found", "There is no such page.");
  }
  if (isPublic(uri)) {
    stripOwnCookies(request);
    return rewrite(request);
  }
  const cookies = readCookies(request.headers);
  const token = sessionToken(cookies);
  if (token !== null) {
    const outcome = await checkToken(token, { deadline, nonce: null, fromIdp: false });
    if (outcome.ok) {
      stripOwnCookies(request);
      return rewrite(request);
    }
    log("session refused", outcome.reason);
  }
  return startLogin(request, deadline);
}

// ---------------------------------------------------------------------------------------
// Sign-in: authorization code with PKCE, state signed and bound to this browser

async function startLogin(request, deadline) {
  const host = hostOf(request);
  if (host === null) {
    return page(400, "Bad request", "The request has no usable Host header.");
  }
  const discovery = await getDiscovery(deadline);
  const target = request.querystring ? request.uri + "?" + request.querystring : request.uri;
  const verifier = base64url(crypto.randomBytes(32));
  const challenge = base64url(crypto.createHash("sha256").update(verifier).digest());
  const nonce = base64url(crypto.randomBytes(16));
  // The state carries the challenge, the verifier stays in this browser's cookie: a callback
  // URL replayed in another browser (login CSRF) has no matching verifier.
  const state = signState({
    r: safeReturnPath(target),
    c: challenge,
    n: nonce,
    x: Math.floor(Date.now() / 1000) + STATE_SECONDS,
  });
  const params = querystring.stringify({
    response_type: "code",
    client_id: CONFIG.client_id,
    redirect_uri: "https://" + host + CALLBACK,
    scope: CONFIG.scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  const endpoint = discovery.authorization_endpoint;
  return redirect(endpoint + (endpoint.includes("?") ? "&" : "?") + params, [
    // One cookie per sign-in, so two tabs signing in at once do not overwrite each other.
    cookie(loginCookieName(challenge), verifier, STATE_SECONDS),
  ]);
}

async function callback(request, deadline) {
  const params = querystring.parse(request.querystring || "");
  const one = (name) => (typeof params[name] === "string" ? params[name] : null);
  const state = verifyState(one("state"));
  if (state === null) {
    return page(400, "Sign-in link not valid", "This sign-in link is invalid or has expired.", "/");
  }
  const back = safeReturnPath(state.r);
  if (one("error") !== null) {
    log("identity provider refused the sign-in", /^[A-Za-z0-9_.-]{1,64}$/.test(one("error")) ? one("error") : "?");
    return page(403, "Not signed in", "The identity provider did not sign you in.", back);
  }
  const bindingName = loginCookieName(state.c);
  const verifier = readCookies(request.headers).get(bindingName);
  if (verifier === undefined || !sameChallenge(verifier, state.c)) {
    return page(
      400,
      "Sign-in not completed",
      "This browser did not start this sign-in, it took too long, or cookies are blocked.",
      back,
    );
  }
  const code = one("code");
  const host = hostOf(request);
  if (code === null || host === null) {
    return page(400, "Sign-in not completed", "The identity provider's answer is incomplete.", back);
  }
  let tokens;
  try {
    tokens = await exchangeCode(code, verifier, "https://" + host + CALLBACK, deadline);
  } catch (err) {
    if (err instanceof CodeRefused) {
      log("token endpoint refused the code", err.message);
      return page(400, "Sign-in not completed", "The identity provider refused this sign-in.", back);
    }
    throw err;
  }
  if (typeof tokens.id_token !== "string") {
    throw new IdpError("token endpoint answered without an id_token");
  }
  const outcome = await checkToken(tokens.id_token, { deadline, nonce: state.n, fromIdp: true });
  if (!outcome.ok) {
    log("ID token from the token endpoint refused", outcome.reason);
    if (outcome.policy) {
      return page(403, "Access denied", "Your account may not read this portal.");
    }
    return page(502, "Sign-in failed", "The identity provider's answer could not be verified.");
  }
  const session = sessionCookies(tokens.id_token, outcome.claims.exp);
  if (session === null) {
    log("ID token too large for cookies", String(tokens.id_token.length));
    return page(500, "Sign-in failed", "Your identity provider's token is too large for this portal.");
  }
  return redirect(back, [...session, cookie(bindingName, "", 0)]);
}

async function exchangeCode(code, verifier, redirectUri, deadline) {
  const discovery = await getDiscovery(deadline);
  const form = { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier };
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  if (CONFIG.token_endpoint_auth === "client_secret_basic") {
    // RFC 6749 2.3.1: each part form-encoded before base64.
    const pair = formEncode(CONFIG.client_id) + ":" + formEncode(CONFIG.client_secret);
    headers.authorization = "Basic " + Buffer.from(pair).toString("base64");
  } else {
    form.client_id = CONFIG.client_id;
    if (CONFIG.token_endpoint_auth === "client_secret_post") {
      form.client_secret = CONFIG.client_secret;
    }
  }
  const answer = await fetchJson(discovery.token_endpoint, deadline, {
    method: "POST",
    headers,
    body: querystring.stringify(form),
  });
  if (answer.status >= 400 && answer.status < 500) {
    const error = answer.json && typeof answer.json.error === "string" ? answer.json.error : "";
    throw new CodeRefused(/^[A-Za-z0-9_.-]{1,64}$/.test(error) ? error : String(answer.status));
  }
  if (answer.status !== 200 || answer.json === null || typeof answer.json !== "object") {
    throw new IdpError("token endpoint answered " + answer.status);
  }
  return answer.json;
}

function logout() {
  const cleared = [];
  for (let i = 0; i < MAX_CHUNKS; i++) {
    cleared.push(cookie(COOKIE + "." + i, "", 0));
  }
  // The IdP's own session stays: signing in again may not ask for a password.
  return page(200, "Signed out", "You are signed out of the portal.", "/", cleared);
}

function signState(payload) {
  const body = base64url(JSON.stringify(payload));
  return body + "." + stateMac(body);
}

function stateMac(body) {
  return base64url(crypto.createHmac("sha256", HMAC_KEY).update("backlot-state:" + body).digest());
}

function verifyState(state) {
  if (state === null || state.length > 4096) {
    return null;
  }
  const dot = state.indexOf(".");
  if (dot < 1) {
    return null;
  }
  const body = state.slice(0, dot);
  if (!constantTimeEqual(state.slice(dot + 1), stateMac(body))) {
    return null;
  }
  const payload = parseJson(Buffer.from(body, "base64url").toString("utf8"));
  if (
    payload === null ||
    typeof payload.r !== "string" ||
    typeof payload.c !== "string" ||
    typeof payload.n !== "string" ||
    typeof payload.x !== "number" ||
    Date.now() / 1000 > payload.x
  ) {
    return null;
  }
  return payload;
}

function sameChallenge(verifier, challenge) {
  return constantTimeEqual(base64url(crypto.createHash("sha256").update(verifier).digest()), challenge);
}

function loginCookieName(challenge) {
  return LOGIN_COOKIE + challenge.slice(0, 16);
}

/** Only a path of this site: one leading "/", never "//" or "/\" (browsers read both as
 * another host), no control characters or spaces (a tab inside "/\t/evil" is dropped by
 * URL parsers), and never back into /_auth/. Anything else returns to the home page. */
function safeReturnPath(target) {
  if (
    typeof target !== "string" ||
    target.length > 2048 ||
    !/^\/(?![/\\])[\x21-\x7e]*$/.test(target) ||
    target.includes("\\") ||
    target === "/_auth" ||
    target.startsWith("/_auth/") ||
    target.startsWith("/_auth?")
  ) {
    return "/";
  }
  return target;
}

/** A path below one of config.json's public_paths (README badges, which must load without a
 * session). Only plain paths qualify: S3 does not resolve "..", but a path with dot segments,
 * escapes or doubled slashes could be read differently further on, so it signs in. */
function isPublic(uri) {
  if (!CONFIG.public_paths.length || !/^\/[A-Za-z0-9._~\/-]*$/.test(uri) || uri.includes("//")) {
    return false;
  }
  if (uri.split("/").some((segment) => segment === "." || segment === "..")) {
    return false;
  }
  return CONFIG.public_paths.some((prefix) => uri === prefix || (prefix.endsWith("/") && uri.startsWith(prefix)));
}

function hostOf(request) {
  const entry = request.headers && request.headers.host;
  const host = entry && entry[0] ? entry[0].value : "";
  return /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?$/.test(host) ? host : null;
}

// ---------------------------------------------------------------------------------------
// ID tokens

/** {ok: true, claims} or {ok: false, reason, policy}: policy when the token is genuine but
 * the account is not allowed here. Throws IdpError when the keys cannot be fetched. */
async function checkToken(token, { deadline, nonce, fromIdp }) {
  const jwt = parseJwt(token);
  if (jwt === null) {
    return refused("malformed token");
  }
  const alg = ALGORITHMS.get(jwt.header.alg);
  if (!Object.prototype.hasOwnProperty.call(jwt.header, "alg") || alg === undefined) {
    return refused("algorithm not allowed");
  }
  if (jwt.header.crit !== undefined) {
    return refused("unsupported critical header");
  }
  const keys = await keysFor(jwt.header, alg, deadline, fromIdp);
  if (!keys.some((key) => verifySignature(alg, key, jwt))) {
    return refused(keys.length ? "bad signature" : "no key for this token");
  }
  const problem = claimsProblem(jwt.payload, nonce);
  if (problem !== null) {
    return refused(problem);
  }
  const policy = policyProblem(jwt.payload);
  if (policy !== null) {
    return { ok: false, reason: policy, policy: true };
  }
  return { ok: true, claims: jwt.payload };
}

function refused(reason) {
  return { ok: false, reason, policy: false };
}

function parseJwt(token) {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) {
    return null;
  }
  const header = parseJson(Buffer.from(parts[0], "base64url").toString("utf8"));
  const payload = parseJson(Buffer.from(parts[1], "base64url").toString("utf8"));
  if (header === null || payload === null) {
    return null;
  }
  return {
    header,
    payload,
    signed: parts[0] + "." + parts[1],
    signature: Buffer.from(parts[2], "base64url"),
  };
}

function verifySignature(alg, key, jwt) {
  try {
    if (alg.kty === "EC") {
      return (
        jwt.signature.length === alg.size &&
        crypto.verify(alg.hash, Buffer.from(jwt.signed), { key, dsaEncoding: "ieee-p1363" }, jwt.signature)
      );
    }
    return crypto.verify(alg.hash, Buffer.from(jwt.signed), key, jwt.signature);
  } catch (err) {
    return false;
  }
}

function claimsProblem(claims, nonce) {
  const now = Date.now() / 1000;
  const skew = CONFIG.clock_skew_seconds;
  if (claims.iss !== CONFIG.issuer) {
    return "wrong issuer";
  }
  const aud = claims.aud;
  if (Array.isArray(aud)) {
    // OIDC Core 3.1.3.7: with other audiences too, azp must name this client.
    if (!aud.includes(CONFIG.client_id) || (aud.length > 1 && claims.azp !== CONFIG.client_id)) {
      return "wrong audience";
    }
  } else if (aud !== CONFIG.client_id) {
    return "wrong audience";
  }
  if (claims.azp !== undefined && claims.azp !== CONFIG.client_id) {
    return "wrong authorized party";
  }
  if (typeof claims.exp !== "number" || now >= claims.exp + skew) {
    return "expired";
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || now + skew < claims.nbf)) {
    return "not yet valid";
  }
  if (claims.iat !== undefined && (typeof claims.iat !== "number" || now + skew < claims.iat)) {
    return "issued in the future";
  }
  if (typeof claims.sub !== "string" || claims.sub === "") {
    return "no subject";
  }
  if (nonce !== null && claims.nonce !== nonce) {
    return "wrong nonce";
  }
  return null;
}

function policyProblem(claims) {
  const domains = CONFIG.allowed_email_domains;
  if (domains.length) {
    const email = typeof claims.email === "string" ? claims.email : "";
    const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
    if (!email.includes("@") || !domains.includes(domain)) {
      return "e-mail domain not allowed";
    }
    // Some IdPs send the flag as a string; an address the IdP says is unverified is anyone's.
    if (claims.email_verified === false || claims.email_verified === "false") {
      return "e-mail not verified";
    }
  }
  const groups = CONFIG.allowed_groups;
  if (groups.length) {
    const value = claims[CONFIG.groups_claim];
    const held = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
    if (!held.some((group) => groups.includes(group))) {
      return "not in an allowed group";
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// The IdP's discovery document and keys, cached in the container's memory

let discoveryCache = null; // { value, at }
let jwksCache = null; // { keys: [{ jwk, key }], at }
let lastKidRefetch = 0;

async function getDiscovery(deadline) {
  if (discoveryCache !== null && Date.now() - discoveryCache.at < CACHE_MS) {
    return discoveryCache.value;
  }
  try {
    const url = CONFIG.issuer.replace(/\/$/, "") + "/.well-known/openid-configuration";
    const answer = await fetchJson(url, deadline, { method: "GET" });
    const value = answer.json;
    if (answer.status !== 200 || value === null || typeof value !== "object") {
      throw new IdpError("discovery answered " + answer.status);
    }
    if (value.issuer !== CONFIG.issuer) {
      throw new IdpError("discovery document names another issuer");
    }
    for (const name of ["authorization_endpoint", "token_endpoint", "jwks_uri"]) {
      if (typeof value[name] !== "string" || !allowedUrl(value[name])) {
        throw new IdpError("discovery document has no usable " + name);
      }
    }
    discoveryCache = { value, at: Date.now() };
    return value;
  } catch (err) {
    if (discoveryCache !== null && err instanceof IdpError) {
      log("discovery refresh failed; using the cached copy", err.message);
      return discoveryCache.value;
    }
    throw err;
  }
}

async function getJwks(deadline, force) {
  if (!force && jwksCache !== null && Date.now() - jwksCache.at < CACHE_MS) {
    return jwksCache.keys;
  }
  try {
    const discovery = await getDiscovery(deadline);
    const answer = await fetchJson(discovery.jwks_uri, deadline, { method: "GET" });
    if (answer.status !== 200 || answer.json === null || !Array.isArray(answer.json.keys)) {
      throw new IdpError("JWKS answered " + answer.status);
    }
    const keys = [];
    for (const jwk of answer.json.keys) {
      const key = publicKey(jwk);
      if (key !== null) {
        keys.push({ jwk, key });
      }
    }
    jwksCache = { keys, at: Date.now() };
    return keys;
  } catch (err) {
    // Expired keys are still the issuer's keys; a forced refetch (unknown kid) must not
    // fall back, or it would look like an answer.
    if (!force && jwksCache !== null && err instanceof IdpError) {
      log("JWKS refresh failed; using the cached copy", err.message);
      return jwksCache.keys;
    }
    throw err;
  }
}

function publicKey(jwk) {
  if (jwk === null || typeof jwk !== "object" || (jwk.use !== undefined && jwk.use !== "sig")) {
    return null;
  }
  try {
    const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
    if (key.asymmetricKeyType === "rsa" && key.asymmetricKeyDetails.modulusLength < 2048) {
      return null;
    }
    return key;
  } catch (err) {
    return null;
  }
}

async function keysFor(header, alg, deadline, fromIdp) {
  const pick = (keys) =>
    keys
      .filter(
        ({ jwk }) =>
          (header.kid === undefined || jwk.kid === header.kid) &&
          jwk.kty === alg.kty &&
          (alg.crv === undefined || jwk.crv === alg.crv) &&
          (jwk.alg === undefined || jwk.alg === header.alg),
      )
      .map(({ key }) => key);
  let found = pick(await getJwks(deadline, false));
  if (found.length === 0 && (fromIdp || Date.now() - lastKidRefetch >= KID_REFETCH_MS)) {
    lastKidRefetch = Date.now();
    found = pick(await getJwks(deadline, true));
  }
  return found;
}

function allowedUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch (err) {
    return false;
  }
  // Plain HTTP only to an IdP on this machine (the tests run one).
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
}

function isLoopback(hostname) {
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
}

function fetchJson(text, deadline, { method, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    if (!allowedUrl(text)) {
      reject(new IdpError("refusing a URL that is not https"));
      return;
    }
    const timeout = Math.min(CONFIG.fetch_timeout_seconds * 1000, deadline - Date.now());
    if (timeout <= 0) {
      reject(new IdpError("out of time"));
      return;
    }
    const url = new URL(text);
    const transport = url.protocol === "https:" ? https : http;
    const all = { accept: "application/json", ...headers };
    if (body !== undefined) {
      all["content-length"] = Buffer.byteLength(body);
    }
    let done = false;
    const finish = (fn, value) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        fn(value);
      }
    };
    const req = transport.request(url, { method, headers: all }, (res) => {
      const chunks = [];
      let size = 0;
      res.on("data", (chunk) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy();
          finish(reject, new IdpError("answer too large"));
        } else {
          chunks.push(chunk);
        }
      });
      res.on("end", () => {
        finish(resolve, {
          status: res.statusCode,
          json: parseJson(Buffer.concat(chunks).toString("utf8")),
        });
      });
      res.on("error", () => finish(reject, new IdpError("connection broken")));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(reject, new IdpError("timed out after " + timeout + " ms"));
    }, timeout);
    // The error's message names only the host and the cause (ECONNREFUSED, ENOTFOUND, …).
    req.on("error", (err) => finish(reject, new IdpError(err.code || "request failed")));
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------
// Cookies

function readCookies(headers) {
  const found = new Map();
  for (const entry of (headers && headers.cookie) || []) {
    for (const pair of entry.value.split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0) {
        const name = pair.slice(0, eq).trim();
        // The first of two equal names wins: browsers send the most specific one first.
        if (!found.has(name)) {
          found.set(name, pair.slice(eq + 1).trim());
        }
      }
    }
  }
  return found;
}

function sessionToken(cookies) {
  const parts = [];
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const part = cookies.get(COOKIE + "." + i);
    if (part === undefined) {
      break;
    }
    parts.push(part);
  }
  return parts.length ? parts.join("") : null;
}

/** Set-Cookie values for the token in chunks, clearing any unused chunks of an older and
 * larger token; null when it would need more than MAX_CHUNKS. */
function sessionCookies(token, exp) {
  const count = Math.ceil(token.length / CHUNK_CHARS);
  if (count > MAX_CHUNKS) {
    return null;
  }
  const seconds = Math.max(0, Math.floor(exp - Date.now() / 1000));
  const cookies = [];
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const part = token.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
    cookies.push(cookie(COOKIE + "." + i, part, i < count ? seconds : 0));
  }
  return cookies;
}

function cookie(name, value, maxAge) {
  return name + "=" + value + "; Path=/; Max-Age=" + maxAge + "; HttpOnly; Secure; SameSite=Lax";
}

/** The origin (S3) never needs the session: it is not sent on. */
function stripOwnCookies(request) {
  const kept = [];
  for (const entry of request.headers.cookie || []) {
    for (const pair of entry.value.split(";")) {
      const name = pair.slice(0, Math.max(pair.indexOf("="), 0)).trim();
      const own = name.startsWith(LOGIN_COOKIE) || /^\.[0-9]+$/.test(name.slice(COOKIE.length)) && name.startsWith(COOKIE);
      if (!own && pair.trim() !== "") {
        kept.push(pair.trim());
      }
    }
  }
  if (kept.length) {
    request.headers.cookie = [{ key: "Cookie", value: kept.join("; ") }];
  } else {
    delete request.headers.cookie;
  }
}

// ---------------------------------------------------------------------------------------
// Between Lambda@Edge's shapes and CloudFront Functions' (viewer-request.js)

/** The signed-in request through viewer-request.js: the request to forward (its uri mapped)
 * or the function's own answer (301, 404) as a Lambda@Edge response. */
function rewrite(request) {
  const result = rewriteHandler(toFunctionEvent(request));
  if (typeof result.statusCode === "number") {
    return toLambdaResponse(result);
  }
  // viewer-request.js changes only the uri; headers and query string go on as they came.
  request.uri = result.uri;
  return request;
}

function toFunctionEvent(request) {
  const headers = {};
  for (const name of Object.keys(request.headers || {})) {
    const values = request.headers[name];
    if (name !== "cookie" && values.length) {
      headers[name] = values.length > 1 ? { value: values[0].value, multiValue: values.map((v) => ({ value: v.value })) } : { value: values[0].value };
    }
  }
  const query = {};
  const parsed = querystring.parse(request.querystring || "");
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    query[name] = Array.isArray(value)
      ? { value: value[0], multiValue: value.map((v) => ({ value: v })) }
      : { value };
  }
  return {
    version: "1.0",
    context: { eventType: "viewer-request" },
    viewer: { ip: request.clientIp },
    request: { method: request.method, uri: request.uri, querystring: query, headers, cookies: {} },
  };
}

function toLambdaResponse(result) {
  const headers = {};
  for (const name of Object.keys(result.headers || {})) {
    const entry = result.headers[name];
    const values = entry.multiValue ? entry.multiValue : [entry];
    headers[name.toLowerCase()] = values.map((v) => ({ key: headerKey(name), value: v.value }));
  }
  const response = { status: String(result.statusCode), headers };
  if (result.statusDescription) {
    response.statusDescription = result.statusDescription;
  }
  return response;
}

// ---------------------------------------------------------------------------------------
// Responses made here

function redirect(location, setCookies) {
  return {
    status: "302",
    statusDescription: STATUS_TEXT[302],
    headers: lambdaHeaders({ Location: location, "Cache-Control": "no-store" }, setCookies),
  };
}

function page(status, title, text, link, setCookies) {
  const anchor = link ? '<p><a href="' + escapeHtml(link) + '">Continue</a></p>' : "";
  return {
    status: String(status),
    statusDescription: STATUS_TEXT[status],
    headers: lambdaHeaders(
      {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'",
        "X-Content-Type-Options": "nosniff",
      },
      setCookies || [],
    ),
    body:
      '<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>' +
      escapeHtml(title) +
      "</title><h1>" +
      escapeHtml(title) +
      "</h1><p>" +
      escapeHtml(text) +
      "</p>" +
      anchor +
      "</html>\n",
  };
}

function lambdaHeaders(single, setCookies) {
  const headers = {};
  for (const name of Object.keys(single)) {
    headers[name.toLowerCase()] = [{ key: name, value: single[name] }];
  }
  if (setCookies.length) {
    headers["set-cookie"] = setCookies.map((value) => ({ key: "Set-Cookie", value }));
  }
  return headers;
}

// ---------------------------------------------------------------------------------------
// Small helpers

function headerKey(name) {
  return name
    .split("-")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())
    .join("-");
}

function base64url(data) {
  return Buffer.from(data).toString("base64url");
}

function formEncode(text) {
  return encodeURIComponent(text).replace(/%20/g, "+");
}

function parseJson(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch (err) {
    return null;
  }
}

function constantTimeEqual(a, b) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
}
