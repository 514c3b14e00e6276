#!/usr/bin/env python3
"""Hostile input against a running demo county: random JSON bodies to the
API's write endpoints and random page-form posts (with a valid CSRF token),
as several roles. Every answer must be a 4xx or 2xx in the project's shape
(JSON from the API, HTML from the pages); any 5xx, other content type or
lost connection is printed and counted. Not a CI step: run it by hand
against `guobao serve --demo`, then look for "panicked" in the server's log.

    python3 scripts/fuzz.py http://127.0.0.1:8080 [--seed 1] [--requests 1000]

Standard library only. The demo accounts' password is guobao-demo.
"""

import argparse
import http.cookiejar
import json
import random
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

PASSWORD = "guobao-demo"

API_PATHS = [
    "/api/v1/growers", "/api/v1/plots", "/api/v1/plots/1", "/api/v1/growers/1",
    "/api/v1/policies/1/issue", "/api/v1/policies/1/collect", "/api/v1/policies/1/cancel",
    "/api/v1/policies/1/collection-date", "/api/v1/policies/collect-batch",
    "/api/v1/policies/issue-batch", "/api/v1/batches", "/api/v1/batches/from-selection",
    "/api/v1/batches/1/confirm", "/api/v1/claims", "/api/v1/claim-events",
    "/api/v1/claims/4/dispatch", "/api/v1/claims/4/survey", "/api/v1/claims/7/approve",
    "/api/v1/claims/7/agree", "/api/v1/claims/7/send-back", "/api/v1/claims/7/payments",
    "/api/v1/finance/adjustments", "/api/v1/finance/disbursements", "/api/v1/finance/requests",
    "/api/v1/finance/requests/from-selection", "/api/v1/finance/statement/lock",
    "/api/v1/notices", "/api/v1/notices/1/objections", "/api/v1/notices/1/objections/1/resolve",
    "/api/v1/inspection/villages/1/draws", "/api/v1/inspection/samples/1/result",
    "/api/v1/users", "/api/v1/quote", "/api/v1/eligibility", "/api/v1/self-service/lookup",
    "/api/v1/townships/532999101/target", "/api/v1/schemes",
]

PAGE_PATHS = [
    "/batches", "/batches/confirm", "/batches/preview", "/claims", "/claims/4/dispatch",
    "/claims/7/approve", "/claims/7/agree", "/claims/7/pay", "/claims/7/send-back",
    "/growers", "/growers/1", "/inspection/villages/3/draw", "/notices",
    "/notices/1/objections", "/plots", "/plots/1", "/plots/1/delete",
    "/policies/collect/confirm", "/policies/collect/preview", "/policies/queue/issue",
    "/policies/queue/preview", "/policies/1/collect", "/policies/1/issue", "/schemes",
]

VALUES = [
    None, True, -1, 0, 1e308, -1e308, 2**63, 2**64, "", " ", "\u0000",
    "'; DROP TABLE growers;--", "a" * 100000, "１２３", "NaN", "Infinity", "1e9999",
    "9" * 40, "<!--<script>", "\U0001F600" * 50, [], {}, [1, 2], {"a": 1},
    "2026-02-30", "2026-13-01T25:61:00Z", "١٢٣", "12.345", "-5", "\u202e",
]

FIELDS = [
    "name", "id_number", "phone", "village_id", "township_id", "grower_id", "area_mu",
    "tree_count", "tree_age", "variety", "version", "amount", "policy_ids", "ids", "date",
    "reason", "notes", "username", "password", "role", "scheme", "peril", "plot_id",
    "policy_id", "occurred_at", "reported_at", "loss_rate", "affected_mu", "damaged_trees",
    "latitude", "longitude", "client_id", "outcome", "seed", "mode", "boundary", "year",
    "bank_account", "bank_name", "display_name", "collected_on", "paid_on", "level", "code",
]


class Client:
    """One person: cookies kept, redirects not followed."""

    def __init__(self, base):
        self.base = base
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def send(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.headers.get("content-type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("content-type", ""), e.read()


def token(base, user):
    c = Client(base)
    body = json.dumps({"username": user, "password": PASSWORD}).encode()
    status, _, text = c.send("POST", "/api/v1/session", body,
                             {"Content-Type": "application/json"})
    if status != 201 and status != 200:
        sys.exit(f"login {user}: {status} {text[:200]!r}")
    return json.loads(text)["token"]


def page_session(base, user):
    c = Client(base)
    _, _, text = c.send("GET", "/login")
    csrf = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', text).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": user, "password": PASSWORD})
    status, _, _ = c.send("POST", "/login", form.encode(),
                          {"Content-Type": "application/x-www-form-urlencoded"})
    if status != 303:
        sys.exit(f"page login {user}: {status}")
    _, _, text = c.send("GET", "/")
    csrf = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', text).group(1).decode()
    return c, csrf


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="the server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=1000, help="of each kind")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    roles = ["admin", "underwriter", "adjuster", "finance", "forestry"]
    tokens = {u: token(a.base, u) for u in roles}
    pages = {u: page_session(a.base, u) for u in roles}
    bad = 0

    def report(kind, status, ctype, path, sent, text):
        nonlocal bad
        bad += 1
        print(f"BAD {kind} {status} {ctype} {path} {sent[:200]!r} {text[:200]!r}")

    for _ in range(a.requests):
        user, path = rnd.choice(roles), rnd.choice(API_PATHS)
        body = {f: rnd.choice(VALUES) for f in rnd.sample(FIELDS, rnd.randint(1, 12))}
        raw = json.dumps(body).encode()
        r = rnd.random()
        if r < 0.1:
            raw = raw[: rnd.randint(0, 50)]
        elif r < 0.15:
            raw = b"\xff\xfe\x00garbage"
        elif r < 0.2:
            raw = json.dumps(rnd.choice(VALUES)).encode()
        method = rnd.choice(["POST", "POST", "PUT"])
        status, ctype, text = Client(a.base).send(method, path, raw, {
            "Authorization": "Bearer " + tokens[user], "Content-Type": "application/json"})
        if status >= 500 or not ctype.startswith("application/json"):
            report("api", status, ctype, path, raw, text)

    for _ in range(a.requests):
        user, path = rnd.choice(roles), rnd.choice(PAGE_PATHS)
        client, csrf = pages[user]
        fields = [(f, str(rnd.choice(VALUES))) for f in rnd.sample(FIELDS, rnd.randint(1, 10))]
        fields.append(("csrf_token", csrf))
        form = urllib.parse.urlencode(fields).encode()
        status, ctype, text = client.send("POST", path, form, {
            "Content-Type": "application/x-www-form-urlencoded"})
        if status >= 500 or (status == 200 and not ctype.startswith("text/html")):
            report("page", status, ctype, path, form, text)

    print(f"{2 * a.requests} requests, {bad} bad")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
