import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLogLine, openJobLog, parseLogLine } from './job-log.js';

describe('job log lines', () => {
  it('round-trips a line with its time, source and stream', () => {
    const time = new Date('2026-11-29T06:00:00.123Z');
    const line = formatLogLine(time, 'rank-3', 'stderr', 'x [y] z');
    expect(line).toBe('2026-11-29T06:00:00.123Z [rank-3] [stderr] x [y] z\n');
    expect(parseLogLine(line.trimEnd())).toEqual({
      time,
      source: 'rank-3',
      message: 'x [y] z',
      fields: { stream: 'stderr', rank: 3 },
    });
    expect(parseLogLine('not a log line')).toBeUndefined();
    expect(parseLogLine('yesterday [rank-0] [stdout] hi')).toBeUndefined();
  });

  it('splits output into lines across chunks, masks secrets and flushes the last partial line', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'mlscale-job-log-'));
    try {
      const path = join(directory, 'job.log');
      const seen: string[] = [];
      const log = openJobLog(path, (_source, _stream, message) => seen.push(message));
      const splitter = log.lineSplitter('rank-0', 'stdout');
      const text = Buffer.from('héllo wor');
      // Cut inside the two-byte "é".
      splitter.push(text.subarray(0, 2));
      splitter.push(Buffer.concat([text.subarray(2), Buffer.from('ld\r\nkey: Bearer abc.def\nno newline')]));
      splitter.flush();
      await log.close();
      expect(seen).toEqual(['héllo world', 'key: Bearer [redacted]', 'no newline']);
      const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
      expect(lines.map((line) => parseLogLine(line)?.message)).toEqual(seen);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
