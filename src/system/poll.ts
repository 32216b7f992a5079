/**
 * Reads `read()` every `intervalMs` until `done(value)`, or until the next read would come after
 * `timeoutMs`; `onProgress` hears each value. Ends by itself either way.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: {intervalMs: number; onProgress?: (value: T, waitedMs: number) => void; timeoutMs: number},
): Promise<{done: boolean; value: T; waitedMs: number}> {
  const started = Date.now()
  for (;;) {
    const value = await read()
    const waitedMs = Date.now() - started
    options.onProgress?.(value, waitedMs)
    if (done(value)) return {done: true, value, waitedMs}
    if (waitedMs + options.intervalMs > options.timeoutMs) return {done: false, value, waitedMs}
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs))
  }
}
