"""Calls courier's dispatch-protobuf endpoint with classes protoc compiled from proto/.

usage: protobuf_client.py <folder with greeter_pb2.py and courier_pb2.py> <server URL>
Exits 0 when every reply reads back field by field as expected; prints what differs otherwise.
"""
import json
import sys
import urllib.error
import urllib.request

sys.path.insert(0, sys.argv[1])
import courier_pb2  # noqa: E402
import greeter_pb2  # noqa: E402

BASE = sys.argv[2] + "/invoke/greeter-component/greeter/"
CONTENT_TYPE = "application/x-protobuf"


def post(method, body):
    request = urllib.request.Request(BASE + method, data=body, headers={"Content-Type": CONTENT_TYPE})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def check(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


def tree(depth, fanout, counter):
    counter[0] += 1
    node = greeter_pb2.Node(name=f"node-{counter[0]}", id=counter[0], value=counter[0] * 1.5)
    node.tags.extend(["courier", f"depth-{depth}"])
    if depth > 0:
        for _ in range(fanout):
            node.children.append(tree(depth - 1, fanout, counter))
    return node


def count(node):
    return 1 + sum(count(child) for child in node.children)


# The recursive tree, 13 nodes deep two levels.
sent = tree(2, 3, [0])
status, headers, body = post("echo", greeter_pb2.EchoRequest(tree=sent).SerializeToString())
check(status == 200, f"echo status {status}")
check(headers["Content-Type"] == CONTENT_TYPE, f"echo content type {headers['Content-Type']}")
reply = greeter_pb2.EchoReply.FromString(body)
check(count(reply.value) == 13, f"{count(reply.value)} nodes came back")
check(reply.value == sent, "the tree came back changed")
leaf = reply.value.children[2].children[2]
check((leaf.name, leaf.id, leaf.value, list(leaf.tags)) == ("node-13", 13, 19.5, ["courier", "depth-0"]), f"leaf {leaf}")

# Scalars, optionals (present with a default value, and absent), bytes, repeats, a recursive optional.
sample = greeter_pb2.Sample(flag=True, small=-7, large=-(2**63), unsigned=2**32 - 1, ratio=0.25, nickname="sam",
                            score=-3, blob=bytes([0, 1, 2, 255]), numbers=[1, -1, 2**63 - 1])
sample.parent.nickname = ""
sample.parent.score = 0
status, _, body = post("inspect", greeter_pb2.InspectRequest(sample=sample).SerializeToString())
check(status == 200, f"inspect status {status}")
got = greeter_pb2.InspectReply.FromString(body).value
check(got.flag and got.small == -7 and got.large == -(2**63) and got.unsigned == 2**32 - 1, f"scalars {got}")
check(got.ratio == 0.25 and got.blob == bytes([0, 1, 2, 255]) and list(got.numbers) == [1, -1, 2**63 - 1], f"{got}")
check(got.HasField("nickname") and got.nickname == "sam" and got.HasField("score") and got.score == -3, "optionals")
check(got.HasField("parent"), "the parent is present")
check(got.parent.HasField("nickname") and got.parent.HasField("score"), "present defaults stay present")
check(not got.parent.HasField("parent"), "an absent optional stays absent")
status, _, body = post("inspect", greeter_pb2.InspectRequest(sample=greeter_pb2.Sample()).SerializeToString())
empty = greeter_pb2.InspectReply.FromString(body).value
check(not empty.HasField("nickname") and not empty.HasField("score") and not empty.HasField("parent"), "absent optionals")

# The method's own error: not a 200, courier.Error with the error as JSON.
status, headers, body = post("greet", greeter_pb2.GreetRequest(name="Mallory", excited=True).SerializeToString())
check(status == 500 and headers["courier-error"] == "method", f"greet status {status}")
error = courier_pb2.Error.FromString(body)
check(error.code == "method_error", f"code {error.code}")
check(json.loads(error.message) == {"Refused": {"name": "Mallory", "reason": "on the list"}}, error.message)

# courier's own faults carry the same code and message as on every other channel.
status, _, body = post("nothing", b"")
error = courier_pb2.Error.FromString(body)
check(status == 404 and error.code == "not_found" and error.message, f"{status} {error}")
status, _, body = post("hello", b"\xff\xff\xff")
error = courier_pb2.Error.FromString(body)
check(status == 400 and error.code == "bad_request" and "protobuf" in error.message, f"{status} {error}")

print("OK")
