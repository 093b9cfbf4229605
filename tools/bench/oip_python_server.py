#!/usr/bin/env python3
"""The inference benchmark's Python baseline: a grpcio server of the Open Inference Protocol
(KServe v2) whose ModelInfer calls torch.jit.load(module)(x) — what a squad would write in an
afternoon. Stubs are generated at start with grpc_tools from protos/inference/grpc_predict_v2.proto
into --stubs, as the Python tests do. The module is the trainer's convention,
forward(numeric, categorical): `x` [rows, width] FP32 in (raw_input_contents or fp32_contents),
`y` FP32 out in raw_output_contents. Over TLS with --cert/--key (no client certificate asked, no
token checked), plaintext without. Prints "serving on 127.0.0.1:PORT" once it serves.

  /usr/bin/python3 tools/bench/oip_python_server.py --protos protos --stubs /tmp/stubs \
      --model tabular50 --module model.pt [--version 1] [--threads 2] [--workers 64] \
      [--cert inference.crt --key inference.key]
"""

import argparse
import concurrent.futures
import os
import pathlib
import signal
import sys
import threading


def generate_stubs(protos, out):
    from grpc_tools import protoc
    os.makedirs(out, exist_ok=True)
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    rc = protoc.main(["grpc_tools.protoc", f"-I{protos}", f"-I{include}", f"--python_out={out}",
                      f"--grpc_python_out={out}", "inference/grpc_predict_v2.proto"])
    if rc != 0:
        sys.exit(f"grpc_tools.protoc failed on {protos}/inference/grpc_predict_v2.proto")
    sys.path.insert(0, out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protos", required=True)
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    generate_stubs(args.protos, args.stubs)
    import grpc
    import torch
    from inference import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as pb_grpc

    torch.set_num_threads(args.threads)
    module = torch.jit.load(args.module)
    module.eval()

    class Service(pb_grpc.GRPCInferenceServiceServicer):
        def ModelInfer(self, request, context):
            if request.model_name != args.model:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no model {request.model_name}")
            tensor = request.inputs[0]
            shape = list(tensor.shape)
            if request.raw_input_contents:
                x = torch.frombuffer(bytearray(request.raw_input_contents[0]), dtype=torch.float32)
            else:
                x = torch.tensor(tensor.contents.fp32_contents, dtype=torch.float32)
            x = x.reshape(shape)
            with torch.inference_mode():
                y = module(x, [[] for _ in range(shape[0])])
            response = pb.ModelInferResponse(model_name=args.model, model_version=args.version,
                                             id=request.id)
            response.outputs.add(name="y", datatype="FP32", shape=list(y.shape))
            response.raw_output_contents.append(y.contiguous().numpy().tobytes())
            return response

    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=args.workers))
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(Service(), server)
    if args.cert:
        credentials = grpc.ssl_server_credentials(
            [(pathlib.Path(args.key).read_bytes(), pathlib.Path(args.cert).read_bytes())])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"serving on 127.0.0.1:{port}", flush=True)
    stopped.wait()
    server.stop(1).wait()


if __name__ == "__main__":
    main()
