/** Runs tasks one after another, each after every earlier one has ended (failed or not). */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(task, task)
    this.#tail = next.catch(() => undefined)
    return next
  }
}
