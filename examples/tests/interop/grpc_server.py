"""A gRPC server of the greeter, written with grpcio from the stubs grpcio-tools generated
from proto/greeter.proto: a peer of another stack for courier's `grpc` channel.

usage: grpc_server.py <folder with the generated modules>
Prints `listening on http://127.0.0.1:<port>` once it serves, and serves until killed.
"""
import sys
import time
from concurrent import futures

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402

import greeter_pb2  # noqa: E402
import greeter_pb2_grpc  # noqa: E402


class Greeter(greeter_pb2_grpc.GreeterServicer):
    def Hello(self, request, context):
        return greeter_pb2.HelloReply(value=f"Hello from Python, {request.name}!")

    def Greet(self, request, context):
        if request.name.lower() == "mallory":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "Mallory is not greeted here")
        return greeter_pb2.GreetReply(value=f"Hello, {request.name}{'!' if request.excited else '.'}")

    def Echo(self, request, context):
        return greeter_pb2.EchoReply(value=request.tree)

    def Whoami(self, request, context):
        """Who the caller says it is for: its `tenant` metadata, and the time it gives the call."""
        metadata = dict(context.invocation_metadata())
        remaining = context.time_remaining()
        deadline = "no deadline" if remaining is None or remaining > 1e9 else f"{remaining:.1f}s"
        return greeter_pb2.WhoamiReply(value=f"python for {metadata.get('tenant', 'nobody')}, {deadline}")

    def Inspect(self, request, context):
        return greeter_pb2.InspectReply(value=request.sample)

    def Ping(self, request, context):
        return greeter_pb2.PingReply()

    def Rename(self, request, context):
        time.sleep(2)
        return greeter_pb2.RenameReply(value=request.tree)


server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
greeter_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"listening on http://127.0.0.1:{port}", flush=True)
server.wait_for_termination()
