/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access --
   A JSON Schema is plain JSON walked by key; typing each node would add casts, not checks. */
import {fileURLToPath} from 'node:url'

import {Inventory} from './schema.js'
import * as z from './zod.js'

/** Where the built schema lives, relative to the package root (shipped; `init` points editors at it). */
export const JSON_SCHEMA_FILE = 'schema/inventory.schema.json'

/**
 * The inventory as a JSON Schema (draft 2020-12) of what may be written, defaults optional:
 * editors complete and check fields with it. Refinements zod cannot export (IP literals,
 * durations) appear as loose patterns, so an editor never refuses what jproxy accepts.
 */
export function inventoryJsonSchema(): Record<string, unknown> {
  // Each field's description and each kind's title come from schema.ts (zod's metadata registry).
  const schema = z.toJSONSchema(Inventory, {io: 'input', target: 'draft-2020-12', unrepresentable: 'any'}) as Record<string, any>
  return {...schema, description: 'jproxy inventory: one file describing a Jitsi Meet deployment behind the proxy tier', title: 'jproxy inventory'}
}

/** The schema node of a dotted path (`[]` steps into list items); undefined when there is none. */
export function nodeAt(schema: Record<string, any>, keys: string[]): Record<string, any> | undefined {
  let node: Record<string, any> | undefined = schema
  for (const key of keys) node = key === '[]' ? node?.items : node?.properties?.[key]
  return node
}

/** The schema file of this installation (dist/inventory/ -> package root): what `init` points editors at. */
export function installedSchemaPath(): string {
  return fileURLToPath(new URL(`../../${JSON_SCHEMA_FILE}`, import.meta.url))
}

let inputSchema: Record<string, any> | undefined

/** The keys the inventory allows in the mapping at `path` (list indexes step into items); [] if none. */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const node = nodeAt((inputSchema ??= inventoryJsonSchema()), path.map((key) => (typeof key === 'number' ? '[]' : String(key))))
  return Object.keys(node?.properties ?? {})
}
