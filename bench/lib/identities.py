#!/usr/bin/env python3
"""Signs in to a running `portcullis serve` the way a browser and an API client would, against
oidc-provider-mock (PyPI), and prints the three credentials bench/proxy measures, one per line:

    cookie <value of __Host-portcullis>
    bearer <an RS256 JWT from the provider, audience portcullis-bench-api>
    apitoken <a pct_ API token created through the admin API>

usage: identities.py GATEWAY_ORIGIN PROVIDER_ORIGIN SUBJECT CA_FILE
"""
import sys
import urllib.parse

import requests

def fail(message):
    print(f"identities.py: {message}", file=sys.stderr)
    sys.exit(1)


def sign_in(gateway, subject, ca):
    browser = requests.Session()
    browser.trust_env = False  # REQUESTS_CA_BUNDLE would override the CA given here
    browser.verify = ca
    # An authenticated route sends the browser to the gateway's login, then to the provider's form.
    form = browser.get(gateway + "/app/", headers={"Accept": "text/html"})
    if "/oauth2/authorize" not in form.url:
        fail(f"expected the provider's form, got {form.status_code} {form.url}")
    done = browser.post(form.url, data={"sub": subject}, headers={"Accept": "text/html"})
    cookie = browser.cookies.get("__Host-portcullis")
    if not cookie:
        fail(f"no session cookie after sign-in ({done.status_code} {done.url}): {done.text[:300]}")
    return browser, cookie


def api_token(gateway, browser):
    me = browser.get(gateway + "/_portcullis/api/v1/me", headers={"Accept": "application/json"}).json()
    answer = browser.post(
        gateway + "/_portcullis/api/v1/api-tokens",
        json={"name": "bench", "scope": "user", "expires_in_days": 1},
        headers={"Accept": "application/json", "X-CSRF-Token": me["csrf_token"]},
    )
    if answer.status_code != 201:
        fail(f"creating an API token answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()["secret"]


def bearer(provider, subject):
    """The provider's ID token for a client of its own (any client ID is accepted): an RS256 JWT
    the gateway verifies against the provider's JWKS, as it would an access token."""
    client = "portcullis-bench-api"
    redirect = "http://127.0.0.1:9/callback"
    agent = requests.Session()
    agent.trust_env = False
    query = urllib.parse.urlencode({
        "client_id": client, "response_type": "code", "redirect_uri": redirect,
        "scope": "openid email", "nonce": "bench", "state": "bench",
    })
    answer = agent.post(f"{provider}/oauth2/authorize?{query}", data={"sub": subject}, allow_redirects=False)
    location = answer.headers.get("Location", "")
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("code", [None])[0]
    if not code:
        fail(f"the provider gave no code: {answer.status_code} {location}")
    token = agent.post(f"{provider}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": client, "client_secret": "bench",
    }).json()
    if "id_token" not in token:
        fail(f"the provider gave no ID token: {token}")
    return token["id_token"]


def main():
    if len(sys.argv) != 5:
        fail("usage: identities.py GATEWAY_ORIGIN PROVIDER_ORIGIN SUBJECT CA_FILE")
    gateway, provider, subject, ca = sys.argv[1:]
    browser, cookie = sign_in(gateway, subject, ca)
    print("cookie", cookie)
    print("bearer", bearer(provider, subject))
    print("apitoken", api_token(gateway, browser))


main()
