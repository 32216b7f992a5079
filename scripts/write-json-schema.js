// Build step (after tsc): writes the inventory's JSON Schema from the zod schema in dist/.
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import {inventoryJsonSchema, JSON_SCHEMA_FILE} from '../dist/inventory/json-schema.js'

await mkdir(dirname(JSON_SCHEMA_FILE), {recursive: true})
await writeFile(JSON_SCHEMA_FILE, `${JSON.stringify(inventoryJsonSchema(), null, 2)}\n`)
