/**
 * Scale limits: `jproxy validate config` and `jproxy gen haproxy` / `gen relayd` on inventories
 * of 1,000, 10,000 and 100,000 videobridges, written as an admin writes them (block YAML, 100
 * bridges a shard, at most 32 shards). Prints wall time and peak RSS of the built CLI per size, and, in process, what
 * each stage (YAML parse, schema, rules, render) costs without the inventory bounds, which is
 * what the bounds in src/inventory/load.ts (INVENTORY_LIMITS, docs/limits.md) are chosen from.
 * Run: npm run build && node --expose-gc --import tsx bench/scale-limits.ts
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseDocument} from 'yaml'

import {checkRules} from '../src/inventory/rules.js'
import {INVENTORY_LIMITS} from '../src/inventory/load.js'
import {Inventory} from '../src/inventory/schema.js'
import {renderTarget} from '../src/render/targets.js'
import {formatBytes} from '../src/system/bounded-read.js'
import {measureCli} from './support/measure.js'

const SIZES = [1000, 10_000, 100_000]
const PER_SHARD = 100
/** relayd's 32 hosts a table holds the shards' prosody table to 32 shards. */
const MAX_SHARDS = 32

/** Block-style inventory text with `bridges` videobridges, 100 a shard. */
function inventoryText(bridges: number): string {
  const lines = [
    'domain: meet.example.org',
    'proxy:',
    '  listen: {ipv4: 192.0.2.10}',
    '  tls: {certificate: /etc/ssl/meet.pem, key: /etc/ssl/meet.pem}',
    'web:',
    '  - {name: web1, address: 10.0.0.2}',
    'shards:',
  ]
  const shards = Math.min(MAX_SHARDS, Math.ceil(bridges / PER_SHARD))
  const perShard = Math.ceil(bridges / shards)
  for (let s = 0; s < shards; s++) {
    lines.push(`  - name: shard${s}`, `    prosody: {address: 10.1.${s}.10}`, '    jvbs:')
    for (let j = s * perShard; j < Math.min(bridges, (s + 1) * perShard); j++) {
      lines.push(`      - id: jvb${j}`, `        address: 10.${100 + Math.floor(j / 62_500)}.${Math.floor(j / 250) % 250}.${(j % 250) + 1}`)
    }
  }

  return lines.join('\n') + '\n'
}

/** Each stage in process, bounds bypassed: parse, schema, rules, render both targets. */
function stages(text: string): Record<string, number> {
  const times: Record<string, number> = {}
  let started = performance.now()
  const lap = (name: string) => {
    const now = performance.now()
    times[name] = now - started
    started = now
  }

  const data = parseDocument(text, {uniqueKeys: true}).toJS({maxAliasCount: -1})
  lap('yamlMs')
  const parsed = Inventory.safeParse(data)
  lap('schemaMs')
  if (!parsed.success) throw new Error(parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
  const violations = checkRules(parsed.data)
  lap('rulesMs')
  renderTarget(parsed.data, 'haproxy')
  lap('haproxyMs')
  try {
    renderTarget(parsed.data, 'relayd')
  } catch {
    // relayd may refuse the size; the time to find out still counts.
  }

  lap('relaydMs')
  times.violations = violations.length
  return times
}

const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-scale-'))
try {
  console.log(`inventory bounds: ${INVENTORY_LIMITS.bridges} bridges, ${formatBytes(INVENTORY_LIMITS.bytes)}`)
  for (const bridges of SIZES) {
    const text = inventoryText(bridges)
    const file = join(dir, `inv-${bridges}.yaml`)
    await writeFile(file, text)
    const size = formatBytes(Buffer.byteLength(text))
    globalThis.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    const inProcess = stages(text)
    const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024
    const validate = await measureCli(['validate', 'config', '-i', file])
    const gen = await measureCli(['gen', 'haproxy', '-i', file])
    const row = (name: string, m: {code: number; maxRssMiB: number; wallMs: number}) => `${name} exit ${m.code} ${m.wallMs.toFixed(0)} ms ${m.maxRssMiB.toFixed(0)} MiB RSS`
    console.log(
      `${String(bridges).padStart(7)} bridges, ${size}: ${row('validate config', validate)}; ${row('gen haproxy', gen)}`,
    )
    const stagesText = Object.entries(inProcess).map(([k, v]) => `${k} ${k.endsWith('Ms') ? v.toFixed(0) : v}`).join(', ')
    console.log(`          in process, no bounds: ${stagesText}, heap +${heapMiB.toFixed(0)} MiB`)
  }
} finally {
  await rm(dir, {force: true, recursive: true})
}
