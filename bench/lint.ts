/**
 * Lint benchmark: a 5,000-line relayd.conf, twice: one rendered by `gen relayd` for ~1,250
 * videobridges (Jitsi-shaped: tables, colibri routes, forward lines), one built from the grammar
 * generator the property test uses (every check type, modes, filter rules, redirects).
 * Prints wall time (min and median after a warm-up) and memory. Goal: under 100 ms in-process.
 * Run: node --expose-gc --import tsx bench/lint.ts
 */
import {performance} from 'node:perf_hooks'

import {Inventory} from '../src/inventory/schema.js'
import {lintRelaydConf} from '../src/relayd/lint.js'
import {renderTarget} from '../src/render/targets.js'
import {generateConfig, renderConfig, seededRandom} from '../test/relayd/config-generator.js'

const RUNS = 20
const TARGET_LINES = 5000

function renderedJitsi(jvbCount: number): string {
  const shardCount = 16
  const shards = Array.from({length: shardCount}, (_, s) => ({
    jvbs: [] as Array<{address: string; id: string}>,
    name: `shard${s + 1}`,
    prosody: {address: `10.${s + 1}.0.10`},
  }))
  for (let j = 0; j < jvbCount; j++) {
    const s = j % shardCount
    const host = Math.floor(j / shardCount) + 20
    shards[s].jvbs.push({address: `10.${s + 1}.${Math.floor(host / 250)}.${(host % 250) + 1}`, id: `jvb${j + 1}`})
  }

  const inventory = Inventory.parse({
    domain: 'meet.example.org',
    proxy: {listen: {ipv4: '192.0.2.10'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/private/meet.key'}},
    shards,
    web: [{address: '10.0.0.2', name: 'web1'}, {address: '10.0.0.3', name: 'web2'}],
  })
  return renderTarget(inventory, 'relayd')
}

function generated(): string {
  for (let size = 50; ; size += 10) {
    const random = seededRandom(size)
    const text = renderConfig(generateConfig(random, {size}), random)
    if (linesOf(text) >= TARGET_LINES) return text
  }
}

function linesOf(text: string): number {
  return text.split('\n').length - 1
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

let jvbs = 1000
let jitsi = renderedJitsi(jvbs)
while (linesOf(jitsi) < TARGET_LINES) jitsi = renderedJitsi((jvbs += 50))

for (const [name, text] of [
  [`gen relayd, ${jvbs} JVBs`, jitsi],
  ['grammar generator', generated()],
] as const) {
  const findings = lintRelaydConf(text, {file: 'relayd.conf', strict: true}) // warm-up
  globalThis.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  let peakHeap = heapBefore
  const times: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now()
    lintRelaydConf(text, {file: 'relayd.conf', strict: true})
    times.push(performance.now() - start)
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }

  const errors = findings.filter((d) => d.severity === 'error').length
  console.log(
    `${name}: ${linesOf(text)} lines, ${(text.length / 1024).toFixed(0)} KiB, ${errors} errors / ${findings.length - errors} warnings in strict mode; ` +
      `lint min ${Math.min(...times).toFixed(1)} ms, median ${median(times).toFixed(1)} ms (goal < 100 ms); heap +${((peakHeap - heapBefore) / 1048576).toFixed(1)} MiB during runs`,
  )
}

console.log(`peak RSS of the process: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`)
