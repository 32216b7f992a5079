/** Something every pending operation of a run listens to (src/system/run-deadline.ts). */
export interface Deadline {
  readonly expired: boolean
  onExpire(listener: () => void): () => void
}

/** What ended a probe before its own answer did. */
export type Limit = 'deadline' | 'timeout'

/** What a limit does to an operation: the result it gives, then the release of what it holds. */
export interface LimitHandler<T> {
  onLimit(limit: Limit): T
  release(): void
}

/** An operation that settles once; `settled` tells whether it has. */
export interface Settling<T> {
  settle(value: T): void
  readonly settled: boolean
}

/**
 * The one way a network operation's promise ends: exactly once, on its own answer or at the first of its time
 * limit and the run's deadline. The timer and the deadline listener are released on every path;
 * `onLimit` gives the result for a limit, and `release` (closing the socket) runs after it. Either two
 * functions, or one object with both as methods (an exchange that is its own handler, so a thousand
 * operations in flight do not each carry closures for them).
 */
export function settleOnce<T>(resolve: (value: T) => void, limits: {deadline?: Deadline; timeoutMs: number}, onLimit: ((limit: Limit) => T) | LimitHandler<T>, release?: () => void): Settling<T> {
  const handler = typeof onLimit === 'function' ? {onLimit, release: release ?? (() => {})} : onLimit
  return new Settler(resolve, limits, handler)
}

class Settler<T> implements Settling<T> {
  #settled = false
  #stopListening: (() => void) | undefined
  readonly #timer: NodeJS.Timeout

  constructor(
    private readonly resolve: (value: T) => void,
    limits: {deadline?: Deadline; timeoutMs: number},
    private readonly handler: LimitHandler<T>,
  ) {
    this.#timer = setTimeout(hitTimeout, limits.timeoutMs, this)
    // A deadline already passed settles at once: the caller checks `settled` before starting.
    if (limits.deadline?.expired) this.hit('deadline')
    else this.#stopListening = limits.deadline?.onExpire(() => this.hit('deadline'))
  }

  get settled(): boolean {
    return this.#settled
  }

  hit(limit: Limit): void {
    if (this.#settled) return
    this.settle(this.handler.onLimit(limit))
    this.handler.release()
  }

  settle(value: T): void {
    if (this.#settled) return
    this.#settled = true
    clearTimeout(this.#timer)
    this.#stopListening?.()
    this.#stopListening = undefined
    this.resolve(value)
  }
}

function hitTimeout(settler: {hit(limit: Limit): void}): void {
  settler.hit('timeout')
}
