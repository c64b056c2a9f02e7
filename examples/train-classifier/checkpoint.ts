import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What resumes a run: the parameters after `epoch` (JSON numbers round-trip float64 exactly). */
export interface Checkpoint {
  epoch: number;
  parameters: number[];
}

const fileName = 'checkpoint.json';

/** Writes to a temporary file and renames it, so an interruption never leaves half a checkpoint. */
export async function saveCheckpoint(directory: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, `.${fileName}.${process.pid}.tmp`);
  await writeFile(temporary, JSON.stringify(checkpoint));
  await rename(temporary, join(directory, fileName));
}

/** The last checkpoint, or `undefined` on a fresh start. */
export async function loadCheckpoint(directory: string): Promise<Checkpoint | undefined> {
  try {
    return JSON.parse(await readFile(join(directory, fileName), 'utf8')) as Checkpoint;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
