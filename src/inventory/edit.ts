import {isAlias, isMap, isNode, isScalar, isSeq, type Node, type Pair, parse, parseDocument, visit} from 'yaml'
import type {YAMLMap, YAMLSeq} from 'yaml'

import {JproxyError} from '../errors.js'
import {ipVersion} from '../system/ip.js'
import {invalidInventory, parseInventory} from './load.js'
import {type Inventory, isHostname, NAME_MAX, NAME_PATTERN} from './schema.js'

/** A videobridge to add, as the command line gives it. */
export interface NewJvb {
  address: string
  colibriPort?: number
  id: string
  media?: {address: string; port?: number}
  restPort?: number
}

/*
 * Edits are splices of the file's own text at the places the YAML parser located, so every
 * comment, blank line, quote and key order outside the changed block stays byte for byte, and
 * adding then removing a bridge gives back the original file. Block and flow style (JSON is YAML
 * in flow style) are both edited in their own style: a new entry in a flow collection copies its
 * neighbours' layout (quoting, spacing, one entry per line). The result is parsed and validated
 * before anyone writes it.
 */

const lineStart = (text: string, offset: number) => text.lastIndexOf('\n', offset - 1) + 1
const lineEnd = (text: string, offset: number) => {
  const end = text.indexOf('\n', offset)
  return end === -1 ? text.length : end + 1
}

/** The end of a block node: its range end, stretched to the end of that line. */
const blockEnd = (text: string, node: Node) => (text[node.range![2] - 1] === '\n' ? node.range![2] : lineEnd(text, node.range![2]))

const column = (text: string, offset: number) => offset - lineStart(text, offset)
/** The column of the first character that is not a blank on the line of `offset`. */
const indentOf = (text: string, offset: number) => text.slice(lineStart(text, offset)).search(/\S|$/)
/** Only blanks before `offset` on its line. */
const startsLine = (text: string, offset: number) => text.slice(lineStart(text, offset), offset).trim() === ''
const lineNumber = (text: string, offset: number) => text.slice(0, offset).split('\n').length
const splice = (text: string, start: number, end: number, insert = '') => text.slice(0, start) + insert + text.slice(end)

/** Checks every value before it can reach the file: a hostile id or address is an error naming it, and nothing changes. */
export function checkNewJvb(jvb: NewJvb): void {
  const bad = (field: string, message: string) => {
    throw new JproxyError('usage', `${field}: ${message}`)
  }

  if (!NAME_PATTERN.test(jvb.id) || jvb.id.length > NAME_MAX) bad('id', `"${jvb.id}" must be at most ${NAME_MAX} letters, digits, ".", "_" and "-", starting with a letter or digit`)
  const address = (field: string, value: string) => {
    if (ipVersion(value) === 0 && !isHostname(value)) bad(field, `"${value}" must be an IP address or a hostname`)
  }

  address('address', jvb.address)
  if (jvb.media) address('media address', jvb.media.address)
  for (const [field, port] of [['rest port', jvb.restPort], ['colibri port', jvb.colibriPort], ['media port', jvb.media?.port]] as const) {
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) bad(field, `${port} must be 1..65535`)
  }
}

/** What scale cannot change in place, with the way out: nothing is written. */
function notEditable(text: string, path: string, node: Node, why: string): JproxyError {
  const where = `${path} (line ${lineNumber(text, node.range![0])})`
  return new JproxyError(
    'inventoryNotEditable',
    `${where} ${why}, so jproxy cannot change it in place and nothing changed. Write that part out in full ` +
      '(`jproxy validate config --effective -i FILE` prints the whole inventory that way, though without comments) and run again.',
  )
}

interface Shards {
  /** The node to change, if that changes nothing else: not an alias, and not anchored (&name) for an alias elsewhere. */
  own: <T>(path: string, node: T) => T
  /** A node to remove: `own`, and no anchor inside it that an alias elsewhere names. */
  ownTree: <T>(path: string, node: T) => T
  /** Looks through an alias, to find (not change) a shard or a bridge. */
  resolve: (node: unknown) => unknown
  shards: YAMLSeq
}

function shardsOf(text: string): Shards {
  const document = parseDocument(text)
  if (document.errors.length > 0) {
    throw new JproxyError('inventoryUnreadable', `not valid YAML: ${document.errors[0].message.split('\n')[0]}`)
  }

  const named = new Set<string>()
  visit(document, {Alias: (_, alias) => void named.add(alias.source)})
  const own = <T>(path: string, node: T): T => {
    if (isAlias(node)) throw notEditable(text, path, node, `is an alias (*${node.source}) of a part used elsewhere too`)
    if (isNode(node) && node.anchor && named.has(node.anchor)) {
      throw notEditable(text, path, node, `is anchored (&${node.anchor}) and used elsewhere too`)
    }

    return node
  }

  const ownTree = <T>(path: string, node: T): T => {
    const checked: unknown = own(path, node)
    if (isNode(checked)) {
      visit(checked, (_, inner) => {
        if (isNode(inner) && inner !== checked) own(`${path} (inside)`, inner)
      })
    }

    return node
  }

  const shards = own('shards', document.get('shards', true))
  if (!isSeq(shards)) throw new JproxyError('inventoryInvalid', 'shards: must be a list of shards')
  return {own, ownTree, resolve: (node) => (isAlias(node) ? node.resolve(document) : node), shards}
}

const nameOf = (node: unknown) => (isMap(node) ? node.get('name') : undefined)
const pairOf = (map: YAMLMap, key: string) =>
  map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair<Node, Node | null> | undefined
const shardNames = (shards: Shards) => shards.shards.items.map((s) => nameOf(shards.resolve(s))).join(', ')

type FlowValue = FlowMap | FlowValue[] | number | string
interface FlowMap {
  [key: string]: FlowValue
}

/** A new bridge's fields, in the order the examples write them. */
function jvbFields(jvb: NewJvb): FlowMap {
  const fields: FlowMap = {id: jvb.id, address: jvb.address}
  if (jvb.restPort !== undefined) fields.restPort = jvb.restPort
  if (jvb.colibriPort !== undefined) fields.colibriPort = jvb.colibriPort
  if (jvb.media) fields.media = {address: jvb.media.address, ...(jvb.media.port === undefined ? {} : {port: jvb.media.port})}
  return fields
}

/** A plain scalar when YAML reads it back as this same string, else a double-quoted one (an id such as 1234 or true). */
function scalarText(value: number | string, quoted: boolean): string {
  if (typeof value === 'number') return String(value)
  return quoted || parse(value) !== value ? JSON.stringify(value) : value
}

/** How a flow collection lays out its entries, read from the file so a new entry looks like its neighbours. */
interface FlowLayout {
  /** After a key: `: `, or `:` after a quoted key (`{"id":"jvb1"}`). */
  colon: string
  /** Between entries on one line: `, ` or `,`. */
  comma: string
  /** Inside the brackets of a collection on one line: ` ` or nothing. */
  pad: string
  /** Keys and strings double-quoted, as JSON has them. */
  quoted: boolean
  /** One entry per line, `step` columns right of the closing bracket (JSON.stringify's layout); undefined: on one line. */
  step?: number
}

const INLINE: FlowLayout = {colon: ': ', comma: ', ', pad: '', quoted: false}

/** The layout of a flow map, read from its first entries. */
function layoutOf(text: string, map: YAMLMap): FlowLayout {
  const [first, second] = map.items as Array<Pair<Node, Node | null>>
  const key = first.key
  const quoted = isScalar(key) && key.type === 'QUOTE_DOUBLE'
  const colon = text.slice(key.range![1], first.value?.range![0] ?? key.range![1])
  const comma = second ? text.slice((first.value ?? key).range![1], second.key.range![0]) : ', '
  const pad = text.slice(map.range![0] + 1, key.range![0])
  const close = map.range![1] - 1
  const perLine = startsLine(text, key.range![0]) && startsLine(text, close) && column(text, key.range![0]) > column(text, close)
  return {
    colon: quoted && /^:[ \t]*$/.test(colon) ? colon : ': ',
    comma: /^,[ \t]*$/.test(comma) ? comma : ', ',
    pad: /^[ \t]*$/.test(pad) ? pad : '',
    quoted,
    step: perLine ? column(text, key.range![0]) - column(text, close) : undefined,
  }
}

/** A value as flow text in `layout`, its closing bracket at column `at` when entries go one per line. */
function flowText(value: FlowValue, layout: FlowLayout, at: number): string {
  if (typeof value !== 'object') return scalarText(value, layout.quoted)
  const inner = at + (layout.step ?? 0)
  const [open, close, entries] = Array.isArray(value)
    ? ['[', ']', value.map((v) => flowText(v, layout, inner))]
    : ['{', '}', Object.entries(value).map(([key, v]) => scalarText(key, layout.quoted) + layout.colon + flowText(v, layout, inner))]
  if (layout.step === undefined) return `${open}${layout.pad}${entries.join(layout.comma)}${layout.pad}${close}`
  return `${open}\n${entries.map((e) => ' '.repeat(inner) + e).join(',\n')}\n${' '.repeat(at)}${close}`
}

/** The text of one new block list item at `indent` columns: like its neighbour when that is a flow map, else in block style. */
function itemText(fields: FlowMap, indent: number, neighbour: unknown, text: string): string {
  const pad = ' '.repeat(indent)
  if (isMap(neighbour) && neighbour.flow && neighbour.items.length > 0) {
    return `${pad}- ${flowText(fields, layoutOf(text, neighbour), indent + 2)}\n`
  }

  const lines = Object.entries(fields).map(([key, value]) => `${pad}  ${key}: ${flowText(value, INLINE, 0)}`)
  return `${pad}- ${lines.join('\n').slice(indent + 2)}\n`
}

/** Where each entry of a flow collection is: a list item, or a map entry from its key to the end of its value. */
function entrySpans(collection: YAMLMap | YAMLSeq): Array<{end: number; start: number}> {
  return (collection.items as Array<Node | Pair<Node, Node | null>>).map((item) =>
    'key' in item
      ? {end: (item.value ?? item.key).range![1], start: item.key.range![0]}
      : {end: item.range![1], start: item.range![0]},
  )
}

/** The rest of an entry's line when nothing else follows on it: blanks, the entry's comma, a comment. */
const restOfLine = (text: string, end: number) => /^[ \t]*(,)?[ \t]*(#[^\n]*)?(?=\n|$)/.exec(text.slice(end))

/**
 * Appends an entry to a non-empty flow collection after its last one, laid out like it: on a
 * line of its own at the same column when the last entry has one (after that entry's comment,
 * which stays with it), else after a comma on the same line. `entry` gets the column it starts at.
 */
function appendFlow(text: string, collection: YAMLMap | YAMLSeq, layout: FlowLayout, entry: (at: number) => string): string {
  const spans = entrySpans(collection)
  const last = spans.at(-1)!
  if (startsLine(text, last.start)) {
    const added = `\n${text.slice(lineStart(text, last.start), last.start)}${entry(column(text, last.start))}`
    const rest = restOfLine(text, last.end)
    if (!rest) return splice(text, last.end, last.end, `,${added}`)
    const restEnd = last.end + rest[0].length
    // A trailing comma stays the last thing, as the file had it.
    const [before, after] = rest[1] ? ['', ','] : [',', '']
    return text.slice(0, last.end) + before + text.slice(last.end, restEnd) + added + after + text.slice(restEnd)
  }

  const between = spans.length > 1 ? text.slice(spans.at(-2)!.end, last.start) : ''
  const comma = /^[ \t]*,[ \t]*$/.test(between) ? between : layout.comma
  return splice(text, last.end, last.end, comma + entry(indentOf(text, last.start)))
}

/** Removes entry `index` of a flow collection with its comma: whole lines when it has lines of its own. */
function removeFlow(text: string, collection: YAMLMap | YAMLSeq, index: number): string {
  const spans = entrySpans(collection)
  const {end, start} = spans[index]
  const previous = spans[index - 1]
  const rest = restOfLine(text, end)
  if (startsLine(text, start) && rest) {
    const edited = splice(text, lineStart(text, start), Math.min(text.length, end + rest[0].length + 1))
    // The last entry had no comma after it: now the one before it is last and loses its own.
    const comma = rest[1] || !previous ? undefined : /^[ \t]*,/.exec(edited.slice(previous.end))
    return comma ? splice(edited, previous.end + comma[0].length - 1, previous.end + comma[0].length) : edited
  }

  if (index < spans.length - 1) return splice(text, start, spans[index + 1].start)
  if (previous) return splice(text, previous.end, end)
  return splice(text, start, end + (/^[ \t]*,/.exec(text.slice(end))?.[0].length ?? 0))
}

/** Adds a videobridge to a shard (the only one when `shard` is not given) and returns the new text, validated. */
export function addJvb(text: string, jvb: NewJvb, shard?: string): {inventory: Inventory; text: string} {
  checkNewJvb(jvb)
  const found = shardsOf(text)
  const {own, resolve, shards} = found
  const candidates = shards.items.filter((s) => shard === undefined || nameOf(resolve(s)) === shard)
  if (candidates.length === 0) throw new JproxyError('usage', `no shard named "${shard}"`)
  if (candidates.length > 1) {
    throw new JproxyError('usage', `the inventory has ${candidates.length} shards: say which with --shard (${shardNames(found)})`)
  }

  const path = `shards[${shards.items.indexOf(candidates[0])}]`
  const target = own(path, candidates[0]) as YAMLMap
  const pair = pairOf(target, 'jvbs')
  const jvbs = own(`${path}.jvbs`, pair?.value)
  const fields = jvbFields(jvb)
  let edited: string
  if (isSeq(jvbs) && jvbs.items.length > 0) {
    const last = own(`${path}.jvbs[${jvbs.items.length - 1}]`, jvbs.items.at(-1)) as Node
    if (jvbs.flow) {
      const layout = isMap(last) && last.items.length > 0 ? layoutOf(text, last) : INLINE
      edited = appendFlow(text, jvbs, layout, (at) => flowText(fields, layout, at))
    } else {
      const at = blockEnd(text, last)
      edited = splice(text, at, at, itemText(fields, column(text, last.range![0]) - 2, last, text))
    }
  } else if (isSeq(jvbs)) {
    // `jvbs: []`: the list in place of the brackets, laid out like the shard when that is in flow style too.
    const layout = target.flow ? layoutOf(text, target) : {...INLINE, quoted: isScalar(pair!.key) && pair!.key.type === 'QUOTE_DOUBLE'}
    edited = splice(text, jvbs.range![0], jvbs.range![1], flowText([fields], layout, indentOf(text, jvbs.range![0])))
  } else if (pair) {
    throw new JproxyError('inventoryInvalid', `${path}.jvbs: must be a list of videobridges`)
  } else if (target.flow) {
    const layout = layoutOf(text, target)
    const key = scalarText('jvbs', layout.quoted) + layout.colon
    edited = appendFlow(text, target, layout, (at) => key + flowText([fields], layout, at))
  } else {
    // No list yet: a `jvbs:` key after the shard's last entry, at the shard's key column.
    const keyColumn = column(text, (target.items[0].key as Node).range![0])
    const at = blockEnd(text, target)
    edited = splice(text, at, at, `${' '.repeat(keyColumn)}jvbs:\n${itemText(fields, keyColumn + 2, undefined, text)}`)
  }

  return {inventory: validated(edited), text: edited}
}

/** Removes the videobridge with `id` (its whole entry), and the `jvbs` key when it was the only one. */
export function removeJvb(text: string, id: string): {inventory: Inventory; shard: string; text: string} {
  const {own, ownTree, resolve, shards} = shardsOf(text)
  for (const [index, node] of shards.items.entries()) {
    const shard = resolve(node)
    const pair = isMap(shard) ? pairOf(shard, 'jvbs') : undefined
    const jvbs = resolve(pair?.value)
    if (!isMap(shard) || !pair || !isSeq(jvbs)) continue
    const at = jvbs.items.findIndex((j) => {
      const item = resolve(j)
      return isMap(item) && item.get('id') === id
    })
    if (at === -1) continue
    const path = `shards[${index}]`
    own(path, node)
    own(`${path}.jvbs`, pair.value)
    const item = ownTree(`${path}.jvbs[${at}]`, jvbs.items[at]) as Node
    let edited: string
    if (jvbs.items.length > 1) {
      edited = jvbs.flow ? removeFlow(text, jvbs, at) : splice(text, lineStart(text, item.range![0]), blockEnd(text, item))
    } else if (shard.flow) {
      edited = removeFlow(text, shard, shard.items.indexOf(pair))
    } else if (startsLine(text, pair.key.range![0])) {
      edited = splice(text, lineStart(text, pair.key.range![0]), blockEnd(text, jvbs))
    } else {
      // `- jvbs:` opens the shard's entry: its line stays, with an empty list.
      edited = splice(text, pair.key.range![1], blockEnd(text, jvbs), ': []\n')
    }

    return {inventory: validated(edited), shard: String(nameOf(shard)), text: edited}
  }

  throw new JproxyError('usage', `no videobridge "${id}" in the inventory`)
}

function validated(text: string): Inventory {
  const report = parseInventory(text, 'the edited inventory')
  if (report.inventory) return report.inventory
  throw invalidInventory('the edited inventory', report.problems, 'the change would make the inventory invalid, so it is not written')
}

/**
 * Records a shard's drain: `state: drain` as the shard's last key (or in place of an existing
 * `state:`); `ready` removes the entry again, so a drain and an undrain give back the original file.
 */
export function editShardState(text: string, name: string, state: 'drain' | 'ready'): {inventory: Inventory; text: string} {
  const found = shardsOf(text)
  const {own, resolve, shards} = found
  const index = shards.items.findIndex((s) => nameOf(resolve(s)) === name)
  const path = `shards[${index}]`
  const shard = index === -1 ? undefined : own(path, shards.items[index])
  if (!isMap(shard)) throw new JproxyError('usage', `no shard named "${name}" (${shardNames(found)})`)
  const pair = pairOf(shard, 'state')
  const value = pair ? own(`${path}.state`, pair.value) : undefined
  if (value !== undefined && !isScalar(value)) throw new JproxyError('inventoryInvalid', `${path}.state: must be drain or ready`)
  let edited: string
  if (pair && shard.flow) {
    const drain = () => splice(text, value!.range![0], value!.range![1], scalarText('drain', value?.type === 'QUOTE_DOUBLE'))
    edited = state === 'drain' ? drain() : removeFlow(text, shard, shard.items.indexOf(pair))
  } else if (pair && !startsLine(text, pair.key.range![0])) {
    // `- state: …` opens the shard's entry: only the value changes.
    edited = splice(text, value!.range![0], value!.range![1], state)
  } else if (pair) {
    const key = pair.key
    const start = lineStart(text, key.range![0])
    const end = lineEnd(text, value!.range![1])
    edited = splice(text, start, end, state === 'drain' ? `${text.slice(start, key.range![0])}state: drain\n` : '')
  } else if (state === 'ready') {
    return {inventory: validated(text), text}
  } else if (shard.flow) {
    const layout = layoutOf(text, shard)
    const entry = scalarText('state', layout.quoted) + layout.colon + scalarText('drain', layout.quoted)
    edited = appendFlow(text, shard, layout, () => entry)
  } else {
    const at = blockEnd(text, shard)
    edited = splice(text, at, at, `${' '.repeat(column(text, (shard.items[0].key as Node).range![0]))}state: drain\n`)
  }

  return {inventory: validated(edited), text: edited}
}
