import {readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {applyTarget} from '../../src/apply/apply.js'
import {runAgent} from '../../src/fleet/agent.js'
import type {EtcdClient} from '../../src/etcd/client.js'
import type {FleetKeys} from '../../src/fleet/rollout.js'
import {haproxyFacts} from '../../src/fleet/worker.js'
import {runCommand} from '../../src/system/command.js'
import {BIN} from './cli.js'
import {type Daemon, spawnDaemon} from './daemon.js'
import type {Stage} from './haproxy-stage.js'

/**
 * The first stage's inventory with a fleet of the stages, in order, named `names`: each proxy keeps
 * its own stage's listen, targets, apply and probe (whole sections, as the fleet section replaces them).
 */
export function fleetOfStages(stages: readonly Stage[], names: readonly string[], endpoints: string[]): Record<string, any> {
  const data = structuredClone(stages[0].data)
  data.fleet = {
    etcd: {endpoints},
    proxies: stages.map((stage, i) => ({
      apply: stage.data.apply,
      listen: stage.data.proxy.listen,
      name: names[i],
      probe: stage.data.probe,
      targets: stage.data.targets,
    })),
  }
  return data
}

/** Where a stage's agent keeps its local inventory (the agent writes each rollout's text there). */
export function localInventory(stage: Stage): string {
  return join(stage.dir, 'local.yaml')
}

export interface AgentSettings {
  client: EtcdClient
  intervalMs: number
  keys: FleetKeys
  leaseTtl: number
  log: (line: string) => void
  signal: AbortSignal
}

/** The fleet agent of `stage`, in this process, applying with the real apply; `running` ends when `signal` aborts. */
export async function agentInProcess(stage: Stage, name: string, data: Record<string, any>, settings: AgentSettings): Promise<{running: Promise<void>}> {
  await writeFile(localInventory(stage), stringify(data))
  // Every proxy serves the first stage's certificate (the shared proxy.tls): verify with it.
  const tlsCa = await readFile(data.proxy.tls.certificate, 'utf8')
  const running = runAgent({
    ...settings,
    apply: (view, target) => applyTarget({hostname: name, inventory: view, run: runCommand, target, tlsCa}),
    inventoryFile: localInventory(stage),
    name,
    haproxyFacts,
  })
  return {running}
}

/** The fleet agent of `stage` as its own process (the built CLI), for tests that kill it. */
export async function agentProcess(stage: Stage, name: string, data: Record<string, any>, intervalMs: number, leaseTtl: number): Promise<Daemon> {
  await writeFile(localInventory(stage), stringify(data))
  const args = [BIN, 'fleet', 'agent', '-i', localInventory(stage), '--name', name, '--interval', `${intervalMs}ms`, '--lease-ttl', String(leaseTtl)]
  return spawnDaemon(process.execPath, [...args, '--ca', data.proxy.tls.certificate], 'nodejs')
}

/** What a fleet test started, for `stopFleet`; any part may be missing when `before` failed early. */
export interface FleetFixture {
  agents: Array<Promise<void>>
  client?: {close: () => Promise<void>}
  etcd?: {stop: () => Promise<void>}
  intervalMs: number
  leaseTtl: number
  root?: string
  stages: Stage[]
}

/**
 * Stops a fleet test's fixture after `stop` aborted its in-process agents. Stopping is part of the
 * agent's contract (SIGTERM in the service): each ends within an interval and a lease TTL of it,
 * whatever call it waited in, or this fails (not hangs); the rest is stopped either way.
 */
export async function stopFleet(fixture: FleetFixture): Promise<void> {
  const bound = fixture.intervalMs + fixture.leaseTtl * 1000 + 5000
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`agents still running ${bound} ms after the stop`)), bound)
  })
  try {
    await Promise.race([Promise.all(fixture.agents), late]).finally(() => clearTimeout(timer))
  } finally {
    await fixture.client?.close()
    await Promise.all(fixture.stages.map((s) => s.haproxy.stop()))
    await Promise.all(fixture.stages.flatMap((s) => [...s.backends.values()].map((b) => b.close())))
    await fixture.etcd?.stop()
    if (fixture.root) await rm(fixture.root, {force: true, recursive: true})
  }
}
