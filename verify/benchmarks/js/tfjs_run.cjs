// Runs the tiny network in TensorFlow.js (CPU backend) for the tfjs-browser probe.
// Usage: node tfjs_run.cjs PAYLOAD.json; prints one "FWCLAIMS-RESULT {json}" line.
// The payload holds the weights, an input batch, a training batch and, optionally, the folder
// of a converted graph model (model.json plus weight shards) to load and run as well.
"use strict";
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs-core");
require("@tensorflow/tfjs-backend-cpu");
const tfl = require("@tensorflow/tfjs-layers");
const tfc = require("@tensorflow/tfjs-converter");

const MARK = "FWCLAIMS-RESULT ";

function tensor(t) {
  return tf.tensor(t.data, t.shape, "float32");
}

function folderHandler(folder) {
  // The browser loads model.json and its shards over HTTP; here the same files come from disk.
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(folder, "model.json"), "utf8"));
      const specs = [];
      const buffers = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const shard of group.paths) buffers.push(fs.readFileSync(path.join(folder, shard)));
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData,
      };
    },
  };
}

function tinyModel(w) {
  const [kh, kw, , filters] = w.conv_kernel.shape;
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({inputShape: w.input_shape, filters, kernelSize: [kh, kw]}));
  model.add(tfl.layers.reLU());
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({units: w.dense_kernel.shape[1]}));
  model.setWeights([w.conv_kernel, w.conv_bias, w.dense_kernel, w.dense_bias].map(tensor));
  return model;
}

async function main() {
  const p = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  await tf.setBackend("cpu");
  await tf.ready();
  const found = {
    backend: tf.getBackend(),
    versions: {
      node: process.versions.node,
      "@tensorflow/tfjs-core": tf.version_core,
      "@tensorflow/tfjs-layers": tfl.version_layers,
      "@tensorflow/tfjs-converter": tfc.version_converter,
    },
  };
  const x = tensor(p.input);
  if (p.graph_model) {
    const graph = await tfc.loadGraphModel(folderHandler(p.graph_model));
    found.graph_output = await graph.predict(x).array();
  }
  const model = tinyModel(p.weights);
  found.layers_output = await model.predict(x).array();
  model.compile({optimizer: tf.train.sgd(p.learning_rate), loss: "meanSquaredError"});
  const history = await model.fit(tensor(p.train_x), tensor(p.train_y), {
    batchSize: p.batch_size, epochs: p.epochs, shuffle: false, verbose: 0,
  });
  found.losses = history.history.loss.map(Number);
  process.stdout.write(MARK + JSON.stringify(found) + "\n");
}

main().catch((e) => {
  process.stdout.write(MARK + JSON.stringify({error: `${e.name}: ${e.message}`}) + "\n");
  process.exitCode = 1;
});
