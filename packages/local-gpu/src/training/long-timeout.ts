/** setTimeout's ceiling (about 24.8 days); longer delays would fire at once. */
const longestDelayMs = 2_147_483_647;

/**
 * Calls `callback` after `delayMs`, however long (a max wait of weeks is a valid spec); returns what
 * cancels it.
 */
export function setLongTimeout(callback: () => void, delayMs: number): () => void {
  const deadline = Date.now() + Math.max(0, delayMs);
  let timer: NodeJS.Timeout;
  const arm = () => {
    const remaining = deadline - Date.now();
    timer = setTimeout(
      remaining > longestDelayMs ? arm : callback,
      Math.min(Math.max(0, remaining), longestDelayMs),
    );
  };
  arm();
  return () => clearTimeout(timer);
}
