import {isMap, isScalar, isSeq, type Node, parseDocument, type YAMLMap, type YAMLSeq} from 'yaml'

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
 * adding then removing a bridge gives back the original file. The result is parsed and
 * validated before anyone writes it.
 */

const lineStart = (text: string, offset: number) => text.lastIndexOf('\n', offset - 1) + 1
const lineEnd = (text: string, offset: number) => {
  const end = text.indexOf('\n', offset)
  return end === -1 ? text.length : end + 1
}

/** The end of a block node: its range end, stretched to the end of that line. */
const blockEnd = (text: string, node: Node) => (text[node.range![2] - 1] === '\n' ? node.range![2] : lineEnd(text, node.range![2]))

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

function shardsOf(text: string): {document: ReturnType<typeof parseDocument>; shards: YAMLSeq} {
  const document = parseDocument(text)
  if (document.errors.length > 0) throw new JproxyError('inventoryUnreadable', `not valid YAML: ${document.errors[0].message.split('\n')[0]}`)
  const shards = document.get('shards', true)
  if (!isSeq(shards) || shards.flow) throw new JproxyError('inventoryInvalid', 'shards: jproxy edits a block list of shards only')
  return {document, shards}
}

const nameOf = (node: unknown) => (isMap(node) ? node.get('name') : undefined)

/** The text of one new list item, in the block style of the inventory examples, at `indent` columns. */
function itemText(jvb: NewJvb, indent: number): string {
  const pad = ' '.repeat(indent)
  const lines = [`${pad}- id: ${jvb.id}`, `${pad}  address: ${jvb.address}`]
  if (jvb.restPort !== undefined) lines.push(`${pad}  restPort: ${jvb.restPort}`)
  if (jvb.colibriPort !== undefined) lines.push(`${pad}  colibriPort: ${jvb.colibriPort}`)
  if (jvb.media) lines.push(`${pad}  media: {address: ${jvb.media.address}${jvb.media.port === undefined ? '' : `, port: ${jvb.media.port}`}}`)
  return lines.join('\n') + '\n'
}

/** Adds a videobridge to a shard (the only one when `shard` is not given) and returns the new text, validated. */
export function addJvb(text: string, jvb: NewJvb, shard?: string): {inventory: Inventory; text: string} {
  checkNewJvb(jvb)
  const {shards} = shardsOf(text)
  const candidates = shards.items.filter((s) => shard === undefined || nameOf(s) === shard)
  if (candidates.length === 0) throw new JproxyError('usage', `no shard named "${shard}"`)
  if (candidates.length > 1) throw new JproxyError('usage', `the inventory has ${candidates.length} shards: say which with --shard (${shards.items.map((s) => nameOf(s)).join(', ')})`)
  const target = candidates[0] as YAMLMap
  const jvbs = target.get('jvbs', true)
  let edited: string
  if (isSeq(jvbs) && jvbs.items.length > 0) {
    if (jvbs.flow) throw new JproxyError('inventoryInvalid', `shards[${shards.items.indexOf(target)}].jvbs: jproxy edits block lists only; write it as "- id: …" lines`)
    const last = jvbs.items.at(-1) as Node
    const at = blockEnd(text, last)
    const indent = last.range![0] - lineStart(text, last.range![0]) - 2
    edited = text.slice(0, at) + itemText(jvb, indent) + text.slice(at)
  } else {
    if (jvbs !== undefined && !(isSeq(jvbs) && jvbs.items.length === 0 && !jvbs.flow)) {
      throw new JproxyError('inventoryInvalid', `shards[${shards.items.indexOf(target)}].jvbs: jproxy edits block lists only`)
    }

    // No list yet: a `jvbs:` key after the shard's last entry, at the shard's key column.
    const first = target.items[0].key as Node
    const column = first.range![0] - lineStart(text, first.range![0])
    const at = blockEnd(text, target)
    edited = `${text.slice(0, at)}${' '.repeat(column)}jvbs:\n${itemText(jvb, column + 2)}${text.slice(at)}`
  }

  return {inventory: validated(edited), text: edited}
}

/** Removes the videobridge with `id` (its whole block), and the `jvbs:` key when it was the only one. */
export function removeJvb(text: string, id: string): {inventory: Inventory; shard: string; text: string} {
  const {shards} = shardsOf(text)
  for (const shard of shards.items) {
    if (!isMap(shard)) continue
    const pair = shard.items.find((p) => isScalar(p.key) && p.key.value === 'jvbs')
    const jvbs = pair?.value
    if (!isSeq(jvbs)) continue
    const item = jvbs.items.find((j) => isMap(j) && j.get('id') === id) as Node | undefined
    if (!item) continue
    if (jvbs.flow) throw new JproxyError('inventoryInvalid', `the list holding ${id} is a flow list; jproxy edits block lists only`)
    const only = jvbs.items.length === 1
    const start = lineStart(text, only ? (pair!.key as Node).range![0] : item.range![0])
    const end = blockEnd(text, item)
    const edited = text.slice(0, start) + text.slice(end)
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
 * `state:`); `ready` removes the line again, so a drain and an undrain give back the original file.
 */
export function editShardState(text: string, name: string, state: 'drain' | 'ready'): {inventory: Inventory; text: string} {
  const {shards} = shardsOf(text)
  const shard = shards.items.find((s) => nameOf(s) === name)
  if (!isMap(shard)) throw new JproxyError('usage', `no shard named "${name}" (${shards.items.map((s) => nameOf(s)).join(', ')})`)
  if (shard.flow) throw new JproxyError('inventoryInvalid', `shards[${shards.items.indexOf(shard)}]: jproxy edits block maps only; write the shard as "name: …" lines`)
  const pair = shard.items.find((p) => isScalar(p.key) && p.key.value === 'state')
  let edited: string
  if (pair) {
    const key = pair.key as Node
    const start = lineStart(text, key.range![0])
    if (text.slice(start, key.range![0]).trim() !== '') throw new JproxyError('inventoryInvalid', `shards[${shards.items.indexOf(shard)}].state: jproxy edits it on a line of its own; move it below name:`)
    const value = pair.value as Node | null
    if (value && !isScalar(value)) throw new JproxyError('inventoryInvalid', `shards[${shards.items.indexOf(shard)}].state: must be drain or ready`)
    const end = lineEnd(text, value ? value.range![1] : key.range![1])
    edited = text.slice(0, start) + (state === 'drain' ? `${text.slice(start, key.range![0])}state: drain\n` : '') + text.slice(end)
  } else {
    if (state === 'ready') return {inventory: validated(text), text}
    const first = shard.items[0].key as Node
    const column = first.range![0] - lineStart(text, first.range![0])
    const at = blockEnd(text, shard)
    edited = `${text.slice(0, at)}${' '.repeat(column)}state: drain\n${text.slice(at)}`
  }

  return {inventory: validated(edited), text: edited}
}
