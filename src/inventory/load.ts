import {Composer, type Document, isMap, isScalar, Lexer, LineCounter, parseDocument, Parser} from 'yaml'

import {JproxyError} from '../errors.js'
import {BoundedReadError, formatBytes, readBoundedFile} from '../system/bounded-read.js'
import {DEFAULT_INVENTORY} from './default-path.js'
import {knownKeysAt} from './json-schema.js'
import {plainIssues} from './plain-issue.js'
import {formatPath, formatProblem, type InventoryProblem} from './problem.js'
import {checkRules} from './rules.js'
import {Inventory} from './schema.js'

export {DEFAULT_INVENTORY} from './default-path.js'

/**
 * What jproxy reads as an inventory (docs/limits.md). Each bound is far above a real deployment
 * and is checked before the work it protects, so a hostile or mistaken file is refused in
 * milliseconds instead of costing minutes and gigabytes.
 */
export const INVENTORY_LIMITS = {
  /** Alias expansions (`*name`), counted as the YAML library does: aliases times the size of what they name. */
  aliases: 100_000,
  /** File size: 10,000 bridges written out in full (media, ports, comments) take about 1 MiB. */
  bytes: 2 * 1024 * 1024,
  /** Videobridges over all shards: the size the scale bench shows validate and gen handle in seconds. */
  bridges: 10_000,
  /** Nested collections: a real inventory nests about 6 deep. */
  depth: 64,
} as const

const YAML_ERRORS_SHOWN = 5

/** The outcome of reading one inventory text: the inventory when valid, else every problem found. */
export interface InventoryReport {
  file: string
  inventory?: Inventory
  /** With a valid inventory: the line a field path is written on (warnings about a value name it). */
  lineOf?: (path: ReadonlyArray<PropertyKey>) => number | undefined
  problems: InventoryProblem[]
  /** The text is not YAML jproxy reads (syntax, several documents, past a size, depth or alias bound): no schema check ran. */
  unreadable?: boolean
}

/** Parses inventory YAML text and checks it against the schema and the cross-field rules. */
export function parseInventory(text: string, file: string): InventoryReport {
  const refused = (problem: InventoryProblem): InventoryReport => ({file, problems: [problem], unreadable: true})
  const limits = INVENTORY_LIMITS
  if (Buffer.byteLength(text) > limits.bytes) return refused({message: `larger than ${formatBytes(limits.bytes)}`, path: ''})
  const lineCounter = new LineCounter()
  let document = parseWithinDepth(text, limits.depth, lineCounter)
  if (document === 'too deep') return refused({message: `nested deeper than ${limits.depth} levels`, path: ''})
  // Not one clean document: parsed again by the library's own entry point, for its messages.
  if (document === 'several' || document.errors.length > 0) document = parseDocument(text, {lineCounter: new LineCounter(), ...YAML_OPTIONS})
  if (document.errors.length > 0) {
    // The library's whole message: what is wrong, at which line and column, and the line itself.
    // The first few only: a file that is not YAML at all (a script, a binary) has thousands.
    const problems: InventoryProblem[] = document.errors
      .slice(0, YAML_ERRORS_SHOWN)
      .map((error) => ({line: error.linePos?.[0].line, message: `YAML: ${error.message.trimEnd()}`, path: ''}))
    const more = document.errors.length - YAML_ERRORS_SHOWN
    if (more > 0) problems.push({message: `YAML: ${more} more error(s) not shown`, path: ''})
    return {file, problems, unreadable: true}
  }

  let data: unknown
  try {
    data = document.toJS({maxAliasCount: limits.aliases}) ?? {}
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error
    return refused({message: `too many aliases (over ${limits.aliases} alias expansions)`, path: ''})
  }

  const bridges = countBridges(data)
  if (bridges > limits.bridges) {
    return {file, problems: [{line: lineOfPath(document, lineCounter, ['shards']), message: `${bridges} videobridges; jproxy supports at most ${limits.bridges} in one inventory`, path: 'shards'}]}
  }

  const lineOf = (path: ReadonlyArray<PropertyKey>) => lineOfPath(document, lineCounter, path)
  // jitless: zod's compiled fast path pays off over many parses; a CLI parses once, and compiling costs more.
  const parsed = Inventory.safeParse(data, {jitless: true, reportInput: true})
  if (!parsed.success) {
    return {
      file,
      problems: plainIssues(parsed.error.issues, knownKeysAt).map((issue) => ({line: lineOf(issue.path), message: issue.message, path: formatPath(issue.path)})),
    }
  }

  const problems = checkRules(parsed.data).map((v) => ({line: lineOf(v.path), message: v.message, path: formatPath(v.path)}))
  return problems.length > 0 ? {file, problems} : {file, inventory: parsed.data, lineOf, problems}
}

const YAML_OPTIONS = {prettyErrors: true, uniqueKeys: true} as const

/**
 * The document, lexed and parsed once (what parseDocument does), with the nesting checked on the
 * parser's stack as it goes: composing a 10,000-deep file costs seconds or the stack. 'too deep'
 * past `limit`; 'several' for more than one document. Errors are the library's, without its
 * line and caret (parseDocument adds those).
 */
function parseWithinDepth(text: string, limit: number, lineCounter: LineCounter): Document | 'several' | 'too deep' {
  const parser = new Parser(lineCounter.addNewLine)
  const tooDeep = new Error('too deep')
  function* tokens() {
    lineCounter.addNewLine(0)
    for (const lexeme of new Lexer().lex(text)) {
      yield* parser.next(lexeme)
      if (parser.stack.length > limit) throw tooDeep
    }

    yield* parser.end()
  }

  try {
    const [document, another] = new Composer(YAML_OPTIONS).compose(tokens(), true, text.length)
    return another === undefined ? document : 'several'
  } catch (error) {
    if (error === tooDeep) return 'too deep'
    throw error
  }
}

/** Videobridges over all shards, counted before the schema check walks them. */
function countBridges(data: unknown): number {
  const shards = (data as {shards?: unknown})?.shards
  if (!Array.isArray(shards)) return 0
  return (shards as Array<{jvbs?: unknown} | undefined>).reduce((n, shard) => n + (Array.isArray(shard?.jvbs) ? shard.jvbs.length : 0), 0)
}

/**
 * A side effect that a higher layer attaches to a load (the command layer keeps the probe-plan
 * cache fresh this way): called before the file is read, so it can note the file as it was, and
 * returning what to do with the inventory once it is valid. The load itself writes nothing.
 */
export type InventoryLoadHook = (file: string) => ((inventory: Inventory) => void) | undefined

/** Reads and checks an inventory file; throws a JproxyError naming the file and every problem. */
export async function loadInventory(file: string, onLoad?: InventoryLoadHook): Promise<Inventory> {
  return (await loadInventoryText(file, onLoad)).inventory
}

/** A loaded inventory with its file's text (what an in-place edit splices) and each field's line. */
export interface LoadedInventory {
  inventory: Inventory
  lineOf: (path: ReadonlyArray<PropertyKey>) => number | undefined
  text: string
}

/** loadInventory, keeping the file's text and where each field is written. */
export async function loadInventoryText(file: string, onLoad?: InventoryLoadHook): Promise<LoadedInventory> {
  const loaded = onLoad?.(file)
  const text = await readInventoryFile(file)
  const report = parseInventory(text, file)
  if (report.inventory && report.lineOf) {
    loaded?.(report.inventory)
    return {inventory: report.inventory, lineOf: report.lineOf, text}
  }

  if (report.unreadable) throw unreadableInventory(file, report.problems)
  throw invalidInventory(file, report.problems, 'invalid inventory')
}

/** The error for an inventory that breaks the schema or a rule: every problem as `FILE:LINE: path: message`. */
export function invalidInventory(file: string, problems: InventoryProblem[], heading: string): JproxyError {
  return new JproxyError('inventoryInvalid', `${heading}:\n${problems.map((p) => formatProblem(file, p)).join('\n')}`, {file, problems})
}

/** The error for an inventory that is not YAML jproxy reads: `FILE:LINE: YAML: ...` or `FILE: too many aliases ...`. */
function unreadableInventory(file: string, problems: InventoryProblem[]): JproxyError {
  return new JproxyError('inventoryUnreadable', problems.map((p) => formatProblem(file, p)).join('\n'), {file, problems})
}

/** Reads an inventory file into a report; a missing or unreadable file is an error of its own. */
export async function readInventoryReport(file: string): Promise<InventoryReport> {
  return parseInventory(await readInventoryFile(file), file)
}

/** Reads at most INVENTORY_LIMITS.bytes: `-i /dev/zero` is refused at that bound, not after 640 MB. */
async function readInventoryFile(file: string): Promise<string> {
  try {
    return await readBoundedFile(file, INVENTORY_LIMITS.bytes)
  } catch (error) {
    // A missing file is most often a first run, or a run outside the inventory's folder: say how to go on.
    const missing = error instanceof BoundedReadError && error.code === 'ENOENT'
    const init = file === DEFAULT_INVENTORY ? 'jproxy init' : `jproxy init -i ${file}`
    const reason = missing ? `no such file (write one with \`${init}\`, or name the inventory with -i FILE)` : error instanceof BoundedReadError ? error.reason : (error as Error).message
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
