import type {Deadline} from './settle-once.js'

/**
 * The end of a run (probes, DNS lookups), which every exchange in flight listens to. A Set keeps adding and
 * removing a listener O(1): an AbortSignal's listener list costs O(n) per call, which with a
 * thousand probes in flight took a quarter of a second of the run.
 */
export class RunDeadline implements Deadline {
  #expired = false
  readonly #listeners = new Set<() => void>()

  get expired(): boolean {
    return this.#expired
  }

  /** Ends the run now: every listener is called once. */
  expire(): void {
    if (this.#expired) return
    this.#expired = true
    const listeners = [...this.#listeners]
    this.#listeners.clear()
    for (const listener of listeners) listener()
  }

  /** Calls `listener` when the run ends; returns the function that stops listening. */
  onExpire(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
