import {pollUntil} from '../../src/system/poll.js'

type Read<T> = {error: unknown} | {value: T}

/**
 * Reads `read()` with pollUntil (every `intervalMs`, 100 by default) until `done(value)`, and returns
 * that value. A read that throws counts as "not yet": daemons refuse connections while they start or
 * re-execute. Fails naming `what` and the last read after `timeoutMs`, or as soon as `gaveUp()` gives
 * a reason (the daemon exited), so a test never waits out a condition that cannot come.
 */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: {gaveUp?: () => string | undefined; intervalMs?: number; timeoutMs: number},
): Promise<T> {
  let met = false
  let reason: string | undefined
  const result = await pollUntil(
    () => read().then((value): Read<T> => ({value}), (error: unknown): Read<T> => ({error})),
    (last) => (met = 'value' in last && done(last.value)) || (reason = options.gaveUp?.()) !== undefined,
    {intervalMs: options.intervalMs ?? 100, timeoutMs: options.timeoutMs},
  )
  const last = result.value
  if (met && 'value' in last) return last.value
  const seen = 'value' in last ? (typeof last.value === 'string' ? last.value : (JSON.stringify(last.value) ?? String(last.value))) : `error: ${String(last.error)}`
  const why = reason === undefined ? `not within ${options.timeoutMs} ms` : `gave up after ${result.waitedMs} ms: ${reason}`
  throw new Error(`waiting for ${what}: ${why}; last read: ${seen.slice(0, 2000)}`)
}
