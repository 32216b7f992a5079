/**
 * Child process of bench/relayd-checks.ts: runs `jproxy probe --watch`'s loop (watchProbes)
 * back to back for `rounds` rounds against the given loopback backends and prints, as JSON lines,
 * RSS and heap after a full GC at each checkpoint and the CPU time per round since the last one.
 * Plain JavaScript on the built dist/, so RSS is the watcher's and no TypeScript loader's.
 * Run with --expose-gc, after npm run build.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Inventory} from '../../dist/inventory/schema.js'
import {watchProbes} from '../../dist/probe/watch.js'

/** @type {{checkpoints: number[], colibriPort: number, ports: number[], rounds: number}} */
const {checkpoints, colibriPort, ports, rounds} = JSON.parse(process.argv[2])
const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-watch-'))
const [web, prosody, jicofo, ...jvbs] = ports
const inventory = Inventory.parse({
  domain: 'meet.example.org',
  health: {fall: 3, interval: '5s', rise: 2, timeout: '2s'},
  probe: {proxy: false, stateFile: join(dir, 'probe-state.json')},
  proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
  shards: [
    {
      jicofo: {address: '127.0.0.1', port: jicofo},
      jvbs: jvbs.map((restPort, i) => ({address: '127.0.0.1', colibriPort, id: `jvb${i + 1}`, restPort})),
      name: 's1',
      prosody: {address: '127.0.0.1', port: prosody},
    },
  ],
  web: [{address: '127.0.0.1', name: 'web1', port: web}],
})

const gc = globalThis.gc ?? (() => {})
let cpu = process.cpuUsage()
let last = 0
let started = performance.now()
await watchProbes({
  intervalMs: 0,
  inventory: async () => inventory,
  log: () => {},
  onRound({backends, round}) {
    if (!checkpoints.includes(round)) return
    const used = process.cpuUsage(cpu)
    const wallMs = performance.now() - started
    gc()
    const memory = process.memoryUsage()
    console.log(JSON.stringify({backends, cpuMsPerRound: (used.user + used.system) / 1000 / (round - last), heapMiB: memory.heapUsed / 2 ** 20, round, rssMiB: memory.rss / 2 ** 20, wallMsPerRound: wallMs / (round - last)}))
    last = round
    cpu = process.cpuUsage()
    started = performance.now()
  },
  rounds,
  signal: new AbortController().signal,
})
await rm(dir, {force: true, recursive: true})
