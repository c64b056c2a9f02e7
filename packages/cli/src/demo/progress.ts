/**
 * Live progress for long commands: on a terminal, one line per phase redrawn in place with a bar; when
 * not a TTY or under CI, plain lines (a status line at most once per `plainIntervalMs`), no colour.
 */
export interface Progress {
  /** Starts a phase: prints its heading. */
  phase(title: string): void;
  /** Updates the current phase's status (fraction 0–1 for a bar, or undefined for none). */
  update(status: string, fraction?: number): void;
  /** Prints a line that stays (an event: "scaled 1 → 3"). */
  note(message: string): void;
  /** Ends the current phase with a final status. */
  done(status: string): void;
}

export interface ProgressOptions {
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Environment (CI, NO_COLOR); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Force plain output (default: plain when not a TTY, or CI is set, or NO_COLOR is set). */
  plain?: boolean;
  plainIntervalMs?: number;
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stdout;
  const env = options.env ?? process.env;
  const plain = options.plain ?? (!stream.isTTY || Boolean(env.CI) || Boolean(env.NO_COLOR));
  const plainIntervalMs = options.plainIntervalMs ?? 2000;
  let lastPlainAt = 0;
  let liveLine = false;

  const clearLive = () => {
    if (liveLine) {
      stream.write('\r\x1b[2K');
      liveLine = false;
    }
  };

  return {
    phase(next) {
      clearLive();
      stream.write(plain ? `== ${next}\n` : `\x1b[1m▸ ${next}\x1b[0m\n`);
      lastPlainAt = 0;
    },
    update(status, fraction) {
      if (plain) {
        const now = Date.now();
        if (now - lastPlainAt < plainIntervalMs) return;
        lastPlainAt = now;
        stream.write(`   ${status}\n`);
        return;
      }
      const bar = fraction === undefined ? '' : `${renderBar(fraction)} `;
      stream.write(`\r\x1b[2K  ${bar}${status}`);
      liveLine = true;
    },
    note(message) {
      clearLive();
      stream.write(plain ? `   ${message}\n` : `  \x1b[35m•\x1b[0m ${message}\n`);
    },
    done(status) {
      clearLive();
      stream.write(plain ? `   done: ${status}\n` : `  \x1b[32m✓\x1b[0m ${status}\n`);
    },
  };
}

function renderBar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}
