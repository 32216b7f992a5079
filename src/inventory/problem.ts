/** One thing wrong with an inventory, located by its field path and, when known, its line. */
export interface InventoryProblem {
  line?: number
  message: string
  /** Field path in the form `shards[1].jvbs[0].address`; empty for the document itself. */
  path: string
}

/** Formats a zod/YAML path array as `shards[1].jvbs[0].address`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }

  return out
}

/** `FILE:LINE: path: message`, the form every inventory error is printed in. */
export function formatProblem(file: string, problem: InventoryProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}`
  return problem.path === '' ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`
}
