// Runs an ONNX model with ONNX Runtime Web (its WebAssembly backend, the one browsers use) for
// the pytorch-web probe. Usage: node onnx_web_run.cjs PAYLOAD.json; prints one
// "FWCLAIMS-RESULT {json}" line. The payload names the model file, its input name and the input.
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-web");

const MARK = "FWCLAIMS-RESULT ";

async function main() {
  const p = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  ort.env.wasm.numThreads = 1; // no worker threads: one process, killed as a group on timeout
  const session = await ort.InferenceSession.create(fs.readFileSync(p.model), {
    executionProviders: ["wasm"],
  });
  const input = new ort.Tensor("float32", Float32Array.from(p.input.data), p.input.shape);
  const outputs = await session.run({[p.input_name]: input});
  const first = outputs[session.outputNames[0]];
  const found = {
    output: Array.from(first.data),
    shape: Array.from(first.dims),
    inputs: session.inputNames,
    versions: {node: process.versions.node, "onnxruntime-web": ort.env.versions.web},
  };
  process.stdout.write(MARK + JSON.stringify(found) + "\n");
}

main().catch((e) => {
  process.stdout.write(MARK + JSON.stringify({error: `${e.name}: ${e.message}`}) + "\n");
  process.exitCode = 1;
});
