import type {Inventory} from '../inventory/schema.js'
import {formatPath} from '../inventory/problem.js'

/** Where the inventory was read from, to name a field's line; without it only the field is named. */
export interface InventorySource {
  file: string
  lineOf?: (path: ReadonlyArray<PropertyKey>) => number | undefined
}

interface Value {
  path: Array<number | string>
  text: string
}

/** Every string of the inventory that can stand for one value in a config line: paths, addresses, names with a dot. */
function distinctiveValues(node: unknown, path: Array<number | string> = [], into: Value[] = []): Value[] {
  if (typeof node === 'string' && node.length >= 4 && /[./:]/.test(node)) into.push({path, text: node})
  else if (Array.isArray(node)) node.forEach((item, i) => distinctiveValues(item, [...path, i], into))
  else if (node && typeof node === 'object') for (const [key, value] of Object.entries(node)) distinctiveValues(value, [...path, key], into)
  return into
}

/** The value found in `text` as a whole word (not inside a longer path or address); the longest wins. */
function valueIn(text: string, values: Value[]): undefined | Value {
  const whole = (v: Value) => {
    for (let at = text.indexOf(v.text); at >= 0; at = text.indexOf(v.text, at + 1)) {
      const [before, after] = [text[at - 1] ?? ' ', text[at + v.text.length] ?? ' ']
      if (!/[\w./-]/.test(before) && !/[\w/-]/.test(after)) return true
    }

    return false
  }

  return values.filter((v) => whole(v)).sort((a, b) => b.text.length - a.text.length)[0]
}

/**
 * HAProxy's alerts name a line of the staged file, which is gone when the operator reads them.
 * Where the alert (or the rendered line it points at) holds a value of the inventory, the message
 * names that value's field (and its line) first, keeping HAProxy's text after.
 */
export function placeInInventory<M extends {file?: string; line?: number; message: string}>(
  messages: M[],
  rendered: string,
  renderedFile: string,
  inventory: Inventory,
  source?: InventorySource,
): M[] {
  const lines = rendered.split('\n')
  const values = distinctiveValues(inventory)
  return messages.map((m) => {
    if (m.file !== renderedFile || m.line === undefined) return m
    // HAProxy echoes the config line first (`'bind [2001:db8::10]:443' in section 'frontend' : ...`);
    // what it could not use (a file, an address) comes after, so that is searched first.
    const said = m.message.replace(/^'[^']*'(?: in section '[^']*')?\s*:\s*/, '')
    const found = valueIn(said, values) ?? valueIn(lines[m.line - 1] ?? '', values)
    if (!found) return m
    const line = source?.lineOf?.(found.path)
    const field = `${formatPath(found.path)}${line === undefined ? '' : ` (inventory line ${line})`}`
    const message = `${field}: ${m.message} (line ${m.line} of the rendered file)`
    if (source && line !== undefined) return {...m, file: source.file, line, message}
    // Without the inventory's line, no line at all: the staged file's would mislead.
    const {file: _file, line: _line, ...rest} = m
    return {...rest, message} as M
  })
}
