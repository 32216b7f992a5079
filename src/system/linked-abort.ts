/** A signal that aborts with its parent or after `timeoutMs`, and lets go of both when disposed. */
export interface LinkedAbort {
  /** Aborts it now (and disposes of it). */
  abort: () => void
  /** Removes the listener on the parent and clears the timer: call it when the work is over. */
  dispose: () => void
  signal: AbortSignal
  /** Whether it was the timer that aborted it. */
  timedOut: () => boolean
}

/**
 * For the calls of a long-lived service: AbortSignal.any on a signal that lives as long as the
 * service keeps a small object per call on Node 20 (nodejs/node#55351), a leak that never ends.
 * This listens to the parent itself and removes the listener when disposed.
 */
export function linkedAbort(parent: AbortSignal | undefined, timeoutMs?: number): LinkedAbort {
  const controller = new AbortController()
  let timedOut = false
  const onAbort = () => controller.abort(parent?.reason)
  parent?.addEventListener('abort', onAbort, {once: true})
  if (parent?.aborted) onAbort()
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'))
        }, timeoutMs)
  const dispose = () => {
    parent?.removeEventListener('abort', onAbort)
    clearTimeout(timer)
  }

  return {
    abort() {
      dispose()
      controller.abort()
    },
    dispose,
    signal: controller.signal,
    timedOut: () => timedOut,
  }
}
