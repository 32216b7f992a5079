/* eslint-disable @typescript-eslint/no-explicit-any --
   A JSON Schema is plain JSON walked by key; typing each node would add casts, not checks. */
import {inventoryJsonSchema, nodeAt} from './json-schema.js'
import {FLEET_SECTIONS, Inventory} from './schema.js'
import * as z from './zod.js'

/** One field of the inventory, as docs/inventory.md lists it (npm run docs writes the table). */
export interface InventoryField {
  /** The YAML value a field left out takes; `required`; or `unset`, whose meaning the description gives. */
  default: string
  description: string
  /** Dotted, `[]` stepping into list items: `shards[].jvbs[].id`. */
  path: string
  type: string
}

interface Node {
  anyOf?: Node[]
  const?: unknown
  default?: unknown
  description?: string
  enum?: unknown[]
  items?: Node
  maximum?: number
  minimum?: number
  properties?: Record<string, Node>
  required?: string[]
  title?: string
  type?: string | string[]
}

/**
 * Every field of the inventory, each mapping's fields after it in alphabetical order. Read off the
 * JSON Schema editors get, so the reference says what editors show and what jproxy accepts.
 */
export function inventoryFields(): InventoryField[] {
  // The input schema drops the default of a value zod transforms (resolver lists); the output schema keeps it.
  const output = z.toJSONSchema(Inventory, {io: 'output', unrepresentable: 'any'}) as Record<string, any>
  const fields: InventoryField[] = []
  const walk = (mapping: Node, keys: string[]): void => {
    const required = new Set(mapping.required ?? [])
    for (const key of Object.keys(mapping.properties ?? {}).sort()) {
      const node = mapping.properties![key]
      const at = [...keys, key]
      const stated = 'default' in node ? node : (nodeAt(output, at) as Node | undefined)
      const fallback = required.has(key) ? 'required' : 'unset'
      // A fleet proxy's own section has the shared one's fields: listed once, at the shared path.
      const sameAs = keys.join('.') === 'fleet.proxies.[]' ? FLEET_SECTIONS[key as keyof typeof FLEET_SECTIONS] : undefined
      fields.push({
        default: stated && 'default' in stated ? yamlValue(stated.default) : fallback,
        description: node.description ?? '',
        path: at.join('.').replaceAll('.[]', '[]'),
        type: sameAs ? `same fields as ${sameAs}` : typeOf(node),
      })
      if (sameAs) continue
      if (node.properties) walk(node, at)
      else if (node.items?.properties) walk(node.items, [...at, '[]'])
    }
  }

  walk(inventoryJsonSchema(), [])
  return fields
}

/** A value's kind: the title schema.ts gives it, else what its JSON Schema type says. */
function typeOf(node: Node): string {
  if (node.title) return node.title
  if (node.anyOf) return node.anyOf.map((alternative) => typeOf(alternative)).join(' or ')
  if (node.const !== undefined) return yamlValue(node.const)
  if (node.enum) {
    const values = node.enum.map(yamlValue)
    return values.length === 2 ? values.join(' or ') : `one of ${values.join(', ')}`
  }

  if (node.type === 'array') return `list of ${plural(node.items ? typeOf(node.items) : 'values')}`
  if (node.type === 'object') return 'mapping'
  if (node.type === 'integer') return `integer ${node.minimum ?? 0}..${node.maximum ?? ''}`
  return node.type === 'string' ? 'text' : String(node.type)
}

function plural(noun: string): string {
  return noun.endsWith('s') ? `${noun}es` : `${noun}s`
}

/** How a value is written in the inventory: `5s`, `[]`, `false`; numbers bare. */
function yamlValue(value: unknown): string {
  if (typeof value === 'number') return String(value)
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``
}
