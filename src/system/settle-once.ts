/** Something every pending operation of a run listens to (src/system/run-deadline.ts). */
export interface Deadline {
  readonly expired: boolean
  onExpire(listener: () => void): () => void
}

/** What ended a probe before its own answer did. */
export type Limit = 'deadline' | 'timeout'

/**
 * The one way a network operation's promise ends: exactly once, on its own answer or at the first of its time
 * limit and the run's deadline. The timer and the deadline listener are released on every path;
 * `onLimit` gives the result for a limit, and `release` (closing the socket) runs after it.
 */
export function settleOnce<T>(
  resolve: (value: T) => void,
  limits: {deadline?: Deadline; timeoutMs: number},
  onLimit: (limit: Limit) => T,
  release: () => void,
): {settle(value: T): void; readonly settled: boolean} {
  let settled = false
  const settle = (value: T) => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    stopListening?.()
    resolve(value)
  }

  const hit = (limit: Limit) => {
    if (settled) return
    settle(onLimit(limit))
    release()
  }

  let stopListening: (() => void) | undefined
  const timer = setTimeout(() => hit('timeout'), limits.timeoutMs)
  // A deadline already passed settles at once: the caller checks `settled` before starting.
  if (limits.deadline?.expired) hit('deadline')
  else stopListening = limits.deadline?.onExpire(() => hit('deadline'))
  return {
    settle,
    get settled() {
      return settled
    },
  }
}
