#!/usr/bin/env python3
"""Logout-all across instances, timed: signs one user in on two instances, checks each session's
access token on the other instance, signs out everywhere on the first and asks the second, over a
kept-alive connection, until both tokens are refused. Prints one line: the milliseconds from the
sign-out's answer until the second instance refused each token, and how long the sign-out took.

    logout-probe.py <https://first> <https://second> <email> <password>

Exits 1 when a token still works on the second instance 5 s after the sign-out answered.
"""
import http.client
import json
import ssl
import sys
import time
from urllib.parse import urlparse


def connect(base):
    url = urlparse(base)
    return http.client.HTTPSConnection(url.hostname, url.port, context=ssl._create_unverified_context(), timeout=10)


def call(conn, method, path, body=None, token=None):
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    return answer.status, data


def sign_in(conn, email, password):
    status, data = call(conn, "POST", "/api/v1/auth/login", {"email": email, "password": password})
    if status != 200:
        sys.exit(f"sign-in answered {status}: {data[:200]!r}")
    return json.loads(data)["accessToken"]


def main():
    first, second, email, password = sys.argv[1:5]
    a, b = connect(first), connect(second)
    here = sign_in(a, email, password)
    there = sign_in(b, email, password)
    for token in (here, there):
        status, _ = call(b, "GET", "/api/v1/me", token=token)
        if status != 200:
            sys.exit(f"a fresh session's token answered {status} on the second instance")
    started = time.monotonic()
    status, data = call(a, "POST", "/api/v1/auth/logout-all", token=here)
    answered = time.monotonic()
    if status != 204:
        sys.exit(f"logout-all answered {status}: {data[:200]!r}")
    refused = {}
    while len(refused) < 2 and time.monotonic() - answered < 5:
        for name, token in (("this session", here), ("the other session", there)):
            if name not in refused and call(b, "GET", "/api/v1/me", token=token)[0] == 401:
                refused[name] = (time.monotonic() - answered) * 1000
        time.sleep(0.01)
    figures = ", ".join(f"{name} refused after {ms:.0f} ms" for name, ms in refused.items())
    print(f"logout-all took {(answered - started) * 1000:.0f} ms; on the second instance: {figures or 'nothing refused'}")
    sys.exit(0 if len(refused) == 2 and max(refused.values()) <= 1000 else 1)


if __name__ == "__main__":
    main()
