import { describe, expect, it } from 'vitest';
import { runToCompletion, startServer, stopAllServers } from '../lib/child-processes.mjs';

const node = process.execPath;

describe('child processes', () => {
  it('resolves with the value isReady finds in a line of output', async () => {
    const server = await startServer(
      node,
      ['-e', 'console.log("booting"); console.log("port 4242"); setInterval(() => {}, 1000)'],
      {
        name: 'fake server',
        isReady: (line: string) => /port (\d+)/.exec(line)?.[1],
      },
    );
    expect(server.ready).toBe('4242');
    await stopAllServers();
    expect(server.child.signalCode ?? server.child.exitCode).not.toBeNull();
  });

  it('rejects with the output of a server that exits before it is ready', async () => {
    await expect(
      startServer(node, ['-e', 'console.error("model.onnx not found"); process.exit(3)'], {
        name: 'broken server',
        isReady: () => undefined,
      }),
    ).rejects.toThrow(/broken server exited \(code 3\) before it was ready:\nmodel\.onnx not found/);
  });

  it('stops a server that is not ready in time', async () => {
    await expect(
      startServer(node, ['-e', 'setInterval(() => {}, 1000)'], {
        name: 'silent server',
        timeoutMs: 300,
        isReady: () => undefined,
      }),
    ).rejects.toThrow(/silent server was not ready within 300 ms/);
  });

  it('kills a server that ignores SIGTERM after the grace period', async () => {
    const server = await startServer(
      node,
      ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'],
      { name: 'stubborn server', isReady: (line: string) => line === 'up' },
    );
    const { stopServer } = await import('../lib/child-processes.mjs');
    await stopServer(server.child, 200);
    expect(server.child.signalCode).toBe('SIGKILL');
  });

  it('returns stdout of a finished command and rejects on a non-zero exit with its stderr', async () => {
    expect(await runToCompletion(node, ['-e', 'process.stdout.write("42")'])).toBe('42');
    await expect(runToCompletion(node, ['-e', 'console.error("boom"); process.exit(1)'])).rejects.toThrow(
      /boom/,
    );
  });
});
