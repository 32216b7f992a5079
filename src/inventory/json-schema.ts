import {fileURLToPath} from 'node:url'
import {z} from 'zod'

import {Inventory} from './schema.js'

/** Where the built schema lives, relative to the package root (shipped; `init` points editors at it). */
export const JSON_SCHEMA_FILE = 'schema/inventory.schema.json'

/**
 * The inventory as a JSON Schema (draft 2020-12) of what may be written, defaults optional:
 * editors complete and check fields with it. Refinements zod cannot export (IP literals,
 * durations) appear as loose patterns, so an editor never refuses what jproxy accepts.
 */
export function inventoryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Inventory, {io: 'input', target: 'draft-2020-12', unrepresentable: 'any'})
  return {...schema, description: 'jproxy inventory: one file describing a Jitsi Meet deployment behind the proxy tier', title: 'jproxy inventory'}
}

/** The schema file of this installation (dist/inventory/ -> package root): what `init` points editors at. */
export function installedSchemaPath(): string {
  return fileURLToPath(new URL(`../../${JSON_SCHEMA_FILE}`, import.meta.url))
}

let inputSchema: Record<string, any> | undefined

/** The keys the inventory allows in the mapping at `path` (list indexes step into items); [] if none. */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let node: Record<string, any> | undefined = (inputSchema ??= inventoryJsonSchema())
  for (const key of path) node = typeof key === 'number' ? node?.items : node?.properties?.[key as string]
  return Object.keys(node?.properties ?? {})
}
