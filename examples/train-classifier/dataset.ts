import { readFile, writeFile } from 'node:fs/promises';
import { seededRandom } from '@mlscale/local-gpu/onnx';

/** Rows of features with one class label each. */
export interface Dataset {
  features: number[][];
  labels: number[];
}

export interface BlobsOptions {
  seed: number;
  samples: number;
  features: number;
  classes: number;
  /** Spread of each blob around its centre; larger overlaps the classes more. */
  spread?: number;
}

/**
 * Gaussian blobs: one centre per class, rows drawn around it. Deterministic for a seed, so a dataset
 * can be regenerated anywhere instead of shipped.
 */
export function generateBlobs(options: BlobsOptions): Dataset {
  const random = seededRandom(options.seed);
  const spread = options.spread ?? 1;
  const centres = Array.from({ length: options.classes }, () =>
    Array.from({ length: options.features }, () => (random.uniform() - 0.5) * 6),
  );
  const features: number[][] = [];
  const labels: number[] = [];
  for (let row = 0; row < options.samples; row++) {
    const label = Math.floor(random.uniform() * options.classes);
    const centre = centres[label]!;
    features.push(centre.map((value) => value + random.normal() * spread));
    labels.push(label);
  }
  return { features, labels };
}

/** Writes `feature0,…,featureN,label` rows with a header line. */
export async function writeCsv(path: string, dataset: Dataset): Promise<void> {
  const width = dataset.features[0]?.length ?? 0;
  const header = [...Array.from({ length: width }, (_, index) => `feature${index}`), 'label'].join(',');
  const lines = dataset.features.map((row, index) => [...row, dataset.labels[index]].join(','));
  await writeFile(path, `${header}\n${lines.join('\n')}\n`);
}

/** Reads what `writeCsv` writes (the last column is the label). */
export async function readCsv(path: string): Promise<Dataset> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const features: number[][] = [];
  const labels: number[] = [];
  for (const [index, line] of lines.slice(1).entries()) {
    const values = line.split(',').map(Number);
    if (values.length < 2 || values.some((value) => !Number.isFinite(value))) {
      throw new Error(`${path} line ${index + 2}: expected numbers separated by commas`);
    }
    labels.push(values.pop()!);
    features.push(values);
  }
  return { features, labels };
}
