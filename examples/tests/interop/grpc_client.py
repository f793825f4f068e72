"""Calls courier's gRPC endpoint through stubs that grpcio-tools generated from proto/.

usage: grpc_client.py <folder with the generated modules> <server URL> <slow server URL> <JWT secret>
The server runs the greeter and, checking HS256 tokens signed with the secret, the ledger; the
slow server's `Hello` takes seconds. Exits 0 when every call answers as expected; prints what
differs otherwise.
"""
import base64
import hashlib
import hmac
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from grpc_status import rpc_status  # noqa: E402

import courier_pb2  # noqa: E402
import greeter_pb2  # noqa: E402
import greeter_pb2_grpc  # noqa: E402
import ledger_pb2  # noqa: E402
import ledger_pb2_grpc  # noqa: E402

SERVER, SLOW_SERVER, SECRET = sys.argv[2], sys.argv[3], sys.argv[4].encode()
TIMEOUT = 10


def check(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


def channel(url):
    return grpc.insecure_channel(url.removeprefix("http://"))


def fails(call, *args, **kwargs):
    """The error a call fails with: an RpcError, whose status details must be courier's."""
    try:
        reply = call(*args, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)
    except grpc.RpcError as error:
        return error
    check(False, f"the call succeeded: {reply}")


def courier_error(error):
    """The courier.Error in the google.rpc.Status details; from_call also checks that the
    status's code and message are the trailers' own."""
    status = rpc_status.from_call(error)
    check(status is not None, f"no grpc-status-details-bin: {error}")
    check(len(status.details) == 1 and status.details[0].type_url == "type.googleapis.com/courier.Error",
          f"details {status.details}")
    return courier_pb2.Error.FromString(status.details[0].value)


def token(subject, roles):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")
    signed = part({"alg": "HS256", "typ": "JWT"}) + b"." + part({"sub": subject, "roles": roles,
                                                              "exp": int(time.time()) + 3600})
    signature = base64.urlsafe_b64encode(hmac.new(SECRET, signed, hashlib.sha256).digest()).rstrip(b"=")
    return (signed + b"." + signature).decode()


def tree(depth, fanout, counter):
    counter[0] += 1
    node = greeter_pb2.Node(name=f"node-{counter[0]}", id=counter[0], value=counter[0] * 1.5, tags=["courier"])
    if depth > 0:
        node.children.extend(tree(depth - 1, fanout, counter) for _ in range(fanout))
    return node


with channel(SERVER) as connection:
    greeter = greeter_pb2_grpc.GreeterStub(connection)

    # Every method of the greeter.
    check(greeter.Hello(greeter_pb2.HelloRequest(name="Ada"), timeout=TIMEOUT).value == "Hello, Ada!", "Hello")
    greeting = greeter.Greet(greeter_pb2.GreetRequest(name="Ada", excited=True), timeout=TIMEOUT)
    check(greeting.value == "Hello, Ada!", f"Greet: {greeting}")
    sent = tree(2, 3, [0])
    check(greeter.Echo(greeter_pb2.EchoRequest(tree=sent), timeout=TIMEOUT).value == sent, "Echo changed the tree")
    check(greeter.Whoami(greeter_pb2.WhoamiRequest(), timeout=TIMEOUT).value == "grpc-peer", "Whoami")
    sample = greeter_pb2.Sample(flag=True, small=-7, large=-(2**63), unsigned=2**32 - 1, ratio=0.25, nickname="",
                                blob=bytes([0, 255]), numbers=[1, -1, 2**63 - 1])
    got = greeter.Inspect(greeter_pb2.InspectRequest(sample=sample), timeout=TIMEOUT).value
    check(got == sample and got.HasField("nickname") and not got.HasField("score"), f"Inspect: {got}")
    check(greeter.Ping(greeter_pb2.PingRequest(), timeout=TIMEOUT) == greeter_pb2.PingReply(), "Ping")
    renamed = greeter.Rename(greeter_pb2.RenameRequest(id=7, name="seven", tree=sent), timeout=TIMEOUT).value
    check((renamed.id, renamed.name, len(renamed.children)) == (7, "seven", 3), f"Rename: {renamed.name}")

    # The method's own error: UNKNOWN (it carries no courier code), the error itself in the details.
    error = fails(greeter.Greet, greeter_pb2.GreetRequest(name="Mallory"))
    check(error.code() == grpc.StatusCode.UNKNOWN, f"Greet(Mallory): {error.code()}")
    detail = courier_error(error)
    check(detail.code == "method_error", f"detail code {detail.code}")
    check(json.loads(detail.message) == {"Refused": {"name": "Mallory", "reason": "on the list"}}, detail.message)

    # Bytes that are no EchoRequest: INVALID_ARGUMENT, courier's bad_request.
    raw_echo = connection.unary_unary("/courier.greeter.Greeter/Echo")
    error = fails(raw_echo, b"\x0a\xff\xff\xff")
    check(error.code() == grpc.StatusCode.INVALID_ARGUMENT, f"undecodable Echo: {error.code()}")
    check(courier_error(error).code == "bad_request", "undecodable Echo detail")

    # More than the server's 4 MiB limit: RESOURCE_EXHAUSTED, courier's payload_too_large.
    error = fails(greeter.Echo, greeter_pb2.EchoRequest(tree=greeter_pb2.Node(name="x" * (5 << 20))))
    check(error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, f"oversized Echo: {error.code()}")
    check(courier_error(error).code == "payload_too_large", "oversized Echo detail")

    # A method the server does not have: UNIMPLEMENTED.
    error = fails(connection.unary_unary("/courier.greeter.Greeter/Shout"), b"")
    check(error.code() == grpc.StatusCode.UNIMPLEMENTED, f"unknown method: {error.code()}")
    check(courier_error(error).code == "not_found", "unknown method detail")

    # Authentication and access rules, with metadata reaching the call's context.
    ledger = ledger_pb2_grpc.LedgerStub(connection)
    error = fails(ledger.Audit, ledger_pb2.AuditRequest())
    check(error.code() == grpc.StatusCode.UNAUTHENTICATED, f"no token: {error.code()}")
    check(courier_error(error).code == "unauthenticated", "no token detail")
    clerk = [("authorization", "Bearer " + token("bob", ["clerk"]))]
    error = fails(ledger.Audit, ledger_pb2.AuditRequest(), metadata=clerk)
    check(error.code() == grpc.StatusCode.PERMISSION_DENIED, f"clerk: {error.code()}")
    check(courier_error(error).code == "forbidden", "clerk detail")
    admin = [("authorization", "Bearer " + token("ada", ["admin"])), ("tenant", "acme")]
    audit = ledger.Audit(ledger_pb2.AuditRequest(), metadata=admin, timeout=TIMEOUT)
    check(audit.value == "ada for acme", f"Audit: {audit.value}")

with channel(SLOW_SERVER) as connection:
    # The deadline travels as grpc-timeout; past it, DEADLINE_EXCEEDED.
    slow = greeter_pb2_grpc.GreeterStub(connection)
    started = time.monotonic()
    error = fails(slow.Hello, greeter_pb2.HelloRequest(name="Ada"), timeout=0.3)
    check(error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, f"slow Hello: {error.code()}")
    check(time.monotonic() - started < 2, "the deadline did not cut the call short")

print("OK")
