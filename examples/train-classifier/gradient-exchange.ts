import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Sums a vector across every rank; every rank gets the same result. */
export interface GradientExchange {
  sum(vector: Float64Array): Promise<Float64Array>;
  close(): Promise<void>;
}

export interface ExchangeOptions {
  rank: number;
  worldSize: number;
  /** Where rank 0 listens (torchrun's MASTER_ADDR / MASTER_PORT). */
  masterAddress: string;
  masterPort: number;
  /** How long to wait for the other ranks to connect. */
  connectTimeoutMs?: number;
}

/**
 * A small all-reduce over TCP: rank 0 accepts one connection per other rank, adds their vectors in rank
 * order (so the sum is the same bits on every run) and sends the total back. Frames are a 4-byte length
 * then float64 values.
 */
export async function connectGradientExchange(options: ExchangeOptions): Promise<GradientExchange> {
  if (options.worldSize === 1) return { sum: async (vector) => vector, close: async () => {} };
  const timeoutMs = options.connectTimeoutMs ?? 60_000;
  return options.rank === 0 ? reducer(options, timeoutMs) : contributor(options, timeoutMs);
}

async function reducer(options: ExchangeOptions, timeoutMs: number): Promise<GradientExchange> {
  const peers = new Map<number, FrameReader>();
  const server: Server = createServer();
  const allConnected = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${peers.size + 1} of ${options.worldSize} ranks connected in time`)),
      timeoutMs,
    );
    server.on('connection', (socket) => {
      const reader = new FrameReader(socket);
      reader
        .next()
        .then((hello) => {
          peers.set(hello[0]!, reader);
          if (peers.size === options.worldSize - 1) {
            clearTimeout(timer);
            resolve();
          }
        })
        .catch(reject);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.masterPort, options.masterAddress, () => resolve());
  });
  await allConnected;
  return {
    async sum(vector) {
      const total = Float64Array.from(vector);
      for (let rank = 1; rank < options.worldSize; rank++) {
        const part = await peers.get(rank)!.next();
        if (part.length !== total.length) throw new Error(`rank ${rank} sent ${part.length} values`);
        for (let index = 0; index < total.length; index++) total[index]! += part[index]!;
      }
      for (const peer of peers.values()) peer.send(total);
      return total;
    },
    async close() {
      for (const peer of peers.values()) peer.socket.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function contributor(options: ExchangeOptions, timeoutMs: number): Promise<GradientExchange> {
  const deadline = Date.now() + timeoutMs;
  let socket: Socket | undefined;
  // Rank 0 may not be listening yet: retry, as torch's TCPStore clients do.
  while (!socket) {
    try {
      socket = await new Promise<Socket>((resolve, reject) => {
        const attempt = connect(options.masterPort, options.masterAddress, () => resolve(attempt));
        attempt.once('error', reject);
      });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`rank 0 did not answer in time: ${String(error)}`);
      await delay(100);
    }
  }
  const reader = new FrameReader(socket);
  reader.send(Float64Array.of(options.rank));
  return {
    async sum(vector) {
      reader.send(vector);
      return reader.next();
    },
    async close() {
      socket.end();
    },
  };
}

/** Length-prefixed float64 frames over a socket. */
class FrameReader {
  private buffered = Buffer.alloc(0);
  private readonly frames: Float64Array[] = [];
  private readonly waiting: { resolve: (frame: Float64Array) => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('a peer closed the connection')));
  }

  send(vector: Float64Array): void {
    const header = Buffer.alloc(4);
    header.writeUInt32LE(vector.byteLength);
    this.socket.write(
      Buffer.concat([header, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength)]),
    );
  }

  next(): Promise<Float64Array> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32LE(0);
      if (this.buffered.length < 4 + length) break;
      // Copy into a fresh, aligned buffer: a Float64Array view needs 8-byte alignment.
      const bytes = new Uint8Array(length);
      bytes.set(this.buffered.subarray(4, 4 + length));
      this.buffered = this.buffered.subarray(4 + length);
      const frame = new Float64Array(bytes.buffer);
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(frame);
      else this.frames.push(frame);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
