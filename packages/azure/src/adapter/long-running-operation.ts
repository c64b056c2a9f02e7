/** What the SDK's `begin*` methods return (core-lro's PollerLike, the part used here). */
export interface PollerLike<Result> {
  pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<Result>;
  stopPolling(): void;
}

/**
 * Starts one long-running operation and leaves it running in Azure. The SDK's `begin*` sends the request
 * and looks once at the operation's status (so an operation Azure fails at once throws here, with its
 * code and message); no one waits for it to finish: the next reconcile step reads the resource's
 * `provisioningState` instead, so `wait: false`, timeouts and a restart in another process all work.
 */
export async function startOperation<Result>(
  begin: (options: { abortSignal?: AbortSignal }) => Promise<PollerLike<Result>>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const poller = await begin(signal ? { abortSignal: signal } : {});
  poller.stopPolling();
}
