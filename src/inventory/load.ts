import {readFile} from 'node:fs/promises'
import {isMap, isScalar, LineCounter, parseDocument, type Document} from 'yaml'

import {JproxyError} from '../errors.js'
import {probePlan} from '../probe/plan.js'
import {planCacheKey, writePlanCache} from '../probe/plan-cache.js'
import {knownKeysAt} from './json-schema.js'
import {plainIssues} from './plain-issue.js'
import {formatPath, formatProblem, type InventoryProblem} from './problem.js'
import {checkRules} from './rules.js'
import {Inventory} from './schema.js'

export {DEFAULT_INVENTORY} from './default-path.js'

/** The outcome of reading one inventory text: the inventory when valid, else every problem found. */
export interface InventoryReport {
  file: string
  inventory?: Inventory
  problems: InventoryProblem[]
}

/** Parses inventory YAML text and checks it against the schema and the cross-field rules. */
export function parseInventory(text: string, file: string): InventoryReport {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, {lineCounter, prettyErrors: true, uniqueKeys: true})
  if (document.errors.length > 0) {
    return {
      file,
      problems: document.errors.map((error) => ({
        line: error.linePos?.[0].line,
        message: `YAML: ${error.message.split('\n')[0]}`,
        path: '',
      })),
    }
  }

  const lineOf = (path: ReadonlyArray<PropertyKey>) => lineOfPath(document, lineCounter, path)
  const parsed = Inventory.safeParse(document.toJS({maxAliasCount: 50}) ?? {}, {reportInput: true})
  if (!parsed.success) {
    return {
      file,
      problems: plainIssues(parsed.error.issues, knownKeysAt).map((issue) => ({line: lineOf(issue.path), message: issue.message, path: formatPath(issue.path)})),
    }
  }

  const problems = checkRules(parsed.data).map((v) => ({line: lineOf(v.path), message: v.message, path: formatPath(v.path)}))
  return problems.length > 0 ? {file, problems} : {file, inventory: parsed.data, problems}
}

/** Reads and checks an inventory file; throws a JproxyError naming the file and every problem. */
export async function loadInventory(file: string): Promise<Inventory> {
  return (await loadInventoryText(file)).inventory
}

/** loadInventory, keeping the file's text too: what an in-place edit splices. */
export async function loadInventoryText(file: string): Promise<{inventory: Inventory; text: string}> {
  const cacheKey = await planCacheKey(file) // before reading: an edit in between makes the cache a miss
  const text = await readInventoryFile(file)
  const report = parseInventory(text, file)
  if (report.inventory) {
    if (cacheKey) await writePlanCache(cacheKey, probePlan(report.inventory))
    return {inventory: report.inventory, text}
  }

  throw invalidInventory(file, report.problems, 'invalid inventory')
}

/** The error for an inventory that breaks the schema or a rule: every problem as `FILE:LINE: path: message`. */
export function invalidInventory(file: string, problems: InventoryProblem[], heading: string): JproxyError {
  return new JproxyError('inventoryInvalid', `${heading}:\n${problems.map((p) => formatProblem(file, p)).join('\n')}`, {file, problems})
}

/** Reads an inventory file into a report; a missing or unreadable file is an error of its own. */
export async function readInventoryReport(file: string): Promise<InventoryReport> {
  return parseInventory(await readInventoryFile(file), file)
}

async function readInventoryFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
    throw new JproxyError('inventoryUnreadable', `cannot read inventory ${file}: ${reason}`, {file})
  }
}

/**
 * The 1-based line of the deepest node on `path` that exists in the document: a mapping entry's
 * key line (an unknown key or a bad block value is reported where its key is written).
 */
function lineOfPath(document: Document, lineCounter: LineCounter, path: ReadonlyArray<PropertyKey>): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const key = depth > 0 ? path[depth - 1] : undefined
    const parent = depth > 0 ? document.getIn(path.slice(0, depth - 1) as unknown[], true) : undefined
    if (typeof key === 'string' && isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === key)
      const range = (pair?.key as {range?: [number, number, number]} | undefined)?.range
      if (range) return lineCounter.linePos(range[0]).line
    }

    const node = document.getIn(path.slice(0, depth) as unknown[], true) as {range?: [number, number, number]} | undefined
    if (node?.range) return lineCounter.linePos(node.range[0]).line
  }

  return undefined
}
