/**
 * Writes a seeded train/test split of Gaussian blobs as CSV, ready to be a job's "train" and "test"
 * channels: node --import tsx generate-data.ts <train-dir> <test-dir> [seed]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateBlobs, writeCsv } from './dataset.js';

const [trainDirectory, testDirectory, seedText] = process.argv.slice(2);
if (!trainDirectory || !testDirectory) {
  console.error('usage: generate-data.ts <train-dir> <test-dir> [seed]');
  process.exit(2);
}
const seed = Number(seedText ?? 1);
const all = generateBlobs({ seed, samples: 1000, features: 4, classes: 3, spread: 1.0 });
await mkdir(trainDirectory, { recursive: true });
await mkdir(testDirectory, { recursive: true });
await writeCsv(join(trainDirectory, 'train.csv'), {
  features: all.features.slice(0, 800),
  labels: all.labels.slice(0, 800),
});
await writeCsv(join(testDirectory, 'test.csv'), {
  features: all.features.slice(800),
  labels: all.labels.slice(800),
});
console.log(`wrote 800 training and 200 test rows (seed ${seed})`);
