/**
 * Trains a one-hidden-layer MLP classifier on the "train" channel's CSV, the way a script does on
 * SageMaker, Vertex AI or Azure ML: paths and hyperparameters from the environment, a checkpoint every
 * epoch (resumed after an interruption), `epoch=… loss=… accuracy=…` log lines, `model.onnx` in the
 * model directory. With WORLD_SIZE > 1 every rank trains on its share of each batch and the ranks sum
 * their gradients over TCP, so the result is the full batch's gradient step.
 *
 * Run: node --import tsx train.ts   (from this folder, inside a job that sets the environment)
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { encodeMlpModel, seededRandom } from '@mlscale/local-gpu/onnx';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { readCsv } from './dataset.js';
import { connectGradientExchange } from './gradient-exchange.js';
import { accumulateGradient, accuracy, initialParameters, type MlpShape, parameterLayout } from './mlp.js';
import { numberHyperparameter, readTrainingEnvironment } from './training-environment.js';

async function main(): Promise<void> {
  const environment = await readTrainingEnvironment();
  const { rank, worldSize, hyperparameters } = environment;
  const epochs = numberHyperparameter(hyperparameters, 'epochs', 10);
  const batchSize = numberHyperparameter(hyperparameters, 'batch-size', 32);
  const learningRate = numberHyperparameter(hyperparameters, 'learning-rate', 0.1);
  const seed = numberHyperparameter(hyperparameters, 'seed', 7);
  // Slows each epoch down, to watch a run (or interrupt one) before it ends.
  const epochPauseMs = numberHyperparameter(hyperparameters, 'epoch-pause-ms', 0);

  const train = await readCsv(environment.trainFile);
  const classes = Math.max(...train.labels) + 1;
  const shape: MlpShape = {
    inputs: train.features[0]?.length ?? 0,
    hidden: numberHyperparameter(hyperparameters, 'hidden-units', 16),
    classes: numberHyperparameter(hyperparameters, 'classes', classes),
  };
  const layout = parameterLayout(shape);

  const checkpoint = await loadCheckpoint(environment.checkpointDirectory);
  const parameters = checkpoint ? Float64Array.from(checkpoint.parameters) : initialParameters(shape, seed);
  const firstEpoch = checkpoint ? checkpoint.epoch + 1 : 1;
  if (checkpoint) console.log(`rank=${rank} resumed_from_epoch=${checkpoint.epoch}`);

  const exchange = await connectGradientExchange({
    rank,
    worldSize,
    masterAddress: environment.masterAddress,
    masterPort: environment.masterPort,
  });
  const rows = train.features.length;
  for (let epoch = firstEpoch; epoch <= epochs; epoch++) {
    const order = shuffledIndices(rows, seed * 100_003 + epoch);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < rows; start += batchSize) {
      // The global batch is order[start, start + batchSize); this rank takes every worldSize-th row of it.
      const gradient = new Float64Array(layout.size + 3);
      const end = Math.min(start + batchSize, rows);
      for (let position = start + rank; position < end; position += worldSize) {
        const index = order[position]!;
        const result = accumulateGradient(
          shape,
          parameters,
          train.features[index]!,
          train.labels[index]!,
          gradient,
        );
        gradient[layout.size]! += result.loss;
        gradient[layout.size + 1]! += result.correct ? 1 : 0;
        gradient[layout.size + 2]! += 1;
      }
      if (epoch === firstEpoch && start === 0) {
        const mine = [];
        for (let position = rank; position < end; position += worldSize) mine.push(order[position]);
        console.log(`rank=${rank} world_size=${worldSize} first_batch_rows=${mine.join(',')}`);
      }
      const total = await exchange.sum(gradient);
      const count = total[layout.size + 2]!;
      for (let index = 0; index < layout.size; index++)
        parameters[index]! -= (learningRate * total[index]!) / count;
      lossSum += total[layout.size]!;
      correct += total[layout.size + 1]!;
    }
    if (rank === 0) {
      await saveCheckpoint(environment.checkpointDirectory, { epoch, parameters: Array.from(parameters) });
      console.log(
        `epoch=${epoch} loss=${(lossSum / rows).toFixed(6)} accuracy=${(correct / rows).toFixed(4)}`,
      );
    }
    if (epochPauseMs > 0) await delay(epochPauseMs);
  }
  await exchange.close();

  const checksum = createHash('sha256')
    .update(new Uint8Array(parameters.buffer, parameters.byteOffset, parameters.byteLength))
    .digest('hex');
  console.log(`rank=${rank} parameters_sha256=${checksum}`);
  if (rank !== 0) return;

  const trainAccuracy = accuracy(shape, parameters, train.features, train.labels);
  const test = environment.testFile ? await readCsv(environment.testFile) : undefined;
  const testAccuracy = test ? accuracy(shape, parameters, test.features, test.labels) : undefined;
  if (testAccuracy !== undefined) console.log(`test_accuracy=${testAccuracy.toFixed(4)}`);

  await mkdir(environment.modelDirectory, { recursive: true });
  const model = encodeMlpModel({
    inputSize: shape.inputs,
    hiddenActivation: 'relu',
    output: 'softmax',
    inputName: 'features',
    outputName: 'probabilities',
    layers: [
      {
        weights: Float32Array.from(parameters.subarray(layout.w1, layout.b1)),
        bias: Float32Array.from(parameters.subarray(layout.b1, layout.w2)),
      },
      {
        weights: Float32Array.from(parameters.subarray(layout.w2, layout.b2)),
        bias: Float32Array.from(parameters.subarray(layout.b2, layout.size)),
      },
    ],
  });
  await writeFile(join(environment.modelDirectory, 'model.onnx'), model);
  await mkdir(environment.outputDataDirectory, { recursive: true });
  const summary = {
    shape,
    epochs,
    worldSize,
    trainAccuracy,
    testAccuracy,
    parameters: Array.from(parameters),
  };
  await writeFile(join(environment.outputDataDirectory, 'summary.json'), JSON.stringify(summary));
}

/** 0…count-1 in a seeded Fisher–Yates order: the same on every rank and after a restart. */
function shuffledIndices(count: number, seed: number): number[] {
  const random = seededRandom(seed);
  const indices = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(random.uniform() * (index + 1));
    [indices[index], indices[other]] = [indices[other]!, indices[index]!];
  }
  return indices;
}

main().catch(async (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`training failed: ${message}`);
  // SageMaker reads the first 1024 characters of this file as the job's failure reason.
  const outputDirectory = process.env.SM_OUTPUT_DIR;
  if (outputDirectory) {
    await mkdir(outputDirectory, { recursive: true }).catch(() => {});
    await writeFile(join(outputDirectory, 'failure'), message).catch(() => {});
  }
  process.exit(1);
});
