/**
 * Render benchmark: both targets for 10, 100 and 1000 videobridges spread over shards.
 * Prints wall time (min and median of several runs, after a warm-up) and memory per size.
 * Goal: 1000 JVBs over 10 shards in under 300 ms, growing no faster than linearly.
 * Run: node --import tsx bench/render.ts
 */
import {performance} from 'node:perf_hooks'

import {Inventory} from '../src/inventory/schema.js'
import {renderTarget} from '../src/render/targets.js'

const RUNS = 15

function inventoryWith(jvbCount: number, shardCount: number): Inventory {
  const shards = Array.from({length: shardCount}, (_, s) => ({
    jvbs: [] as Array<{address: string; id: string; media: {address: string}}>,
    name: `shard${s + 1}`,
    prosody: {address: `10.${s + 1}.0.10`},
  }))
  for (let j = 0; j < jvbCount; j++) {
    const s = j % shardCount
    const host = Math.floor(j / shardCount) + 20
    shards[s].jvbs.push({address: `10.${s + 1}.${Math.floor(host / 250)}.${(host % 250) + 1}`, id: `jvb${j + 1}`, media: {address: `198.51.${Math.floor(j / 250)}.${(j % 250) + 1}`}})
  }

  return Inventory.parse({
    domain: 'meet.example.org',
    proxy: {listen: {ipv4: '192.0.2.10', ipv6: '2001:db8::10'}, peers: [{address: '10.0.9.1', name: 'a'}, {address: '10.0.9.2', name: 'b'}], tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
    shards,
    web: [{address: '10.0.0.2', name: 'web1'}, {address: '10.0.0.3', name: 'web2'}],
  })
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const rows: Array<{jvbs: number; medianMs: number}> = []
for (const [jvbs, shards] of [
  [10, 2],
  [100, 5],
  [1000, 10],
] as const) {
  const inventory = inventoryWith(jvbs, shards)
  renderTarget(inventory, 'haproxy') // warm-up: template load and JIT
  renderTarget(inventory, 'relayd')
  globalThis.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const times: number[] = []
  let bytes = 0
  let peakHeap = heapBefore
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now()
    const haproxy = renderTarget(inventory, 'haproxy')
    const relayd = renderTarget(inventory, 'relayd')
    times.push(performance.now() - start)
    bytes = haproxy.length + relayd.length
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }

  const medianMs = median(times)
  rows.push({jvbs, medianMs})
  console.log(
    `${String(jvbs).padStart(5)} JVBs / ${String(shards).padStart(2)} shards: both targets in min ${Math.min(...times).toFixed(2)} ms, median ${medianMs.toFixed(2)} ms; ` +
      `output ${(bytes / 1024).toFixed(1)} KiB; heap +${((peakHeap - heapBefore) / 1048576).toFixed(1)} MiB during runs`,
  )
}

const [small, , large] = rows
console.log(`growth 10 → 1000 JVBs: ${(large.medianMs / small.medianMs).toFixed(1)}x time for 100x bridges (linear would be ≤ 100x)`)
console.log(`peak RSS of the process: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`)
