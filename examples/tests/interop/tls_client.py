"""An independent TLS client: Python's ssl and http.client call the JSON dispatch
endpoint of a courier server over TLS, verifying its certificate against the test CA,
and check that a client trusting only the platform's roots is refused.

Usage: tls_client.py <ca.pem> <port>
Prints OK, or says what went wrong and exits non-zero.
"""

import http.client
import json
import ssl
import sys


def call(context, port, path, body):
    connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
    connection.request("POST", path, body=json.dumps(body), headers={"content-type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def main():
    ca, port = sys.argv[1], int(sys.argv[2])
    trusting = ssl.create_default_context(cafile=ca)
    assert trusting.verify_mode == ssl.CERT_REQUIRED and trusting.check_hostname
    status, body = call(trusting, port, "/invoke/greeter-component/greeter/hello", {"name": "Python"})
    assert (status, body) == (200, "Hello, Python!"), (status, body)
    status, body = call(trusting, port, "/invoke/greeter-component/greeter/greet", {"name": "Mallory", "excited": False})
    assert (status, body) == (500, {"Refused": {"name": "Mallory", "reason": "on the list"}}), (status, body)

    connection = http.client.HTTPSConnection("localhost", port, context=trusting, timeout=10)
    connection.request("GET", "/health")
    health = connection.getresponse()
    assert health.status == 200, health.status
    health.read()
    # The connection is TLS 1.2 or 1.3, and the certificate names localhost.
    assert connection.sock.version() in ("TLSv1.2", "TLSv1.3"), connection.sock.version()
    names = [value for kind, value in connection.sock.getpeercert()["subjectAltName"] if kind == "DNS"]
    assert "localhost" in names, names

    stranger = ssl.create_default_context()
    try:
        call(stranger, port, "/invoke/greeter-component/greeter/hello", {"name": "Python"})
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise AssertionError("a client that does not trust the test CA was served")
    print("OK")


if __name__ == "__main__":
    main()
