import {atomicWrite} from '../system/atomic-write.js'
import {ExitCode, JproxyError} from '../errors.js'
import {setShardState, shardStateProblems} from '../haproxy/shard-runtime.js'
import {editShardState} from '../inventory/edit.js'
import {loadInventoryText} from '../inventory/load.js'
import type {Shard} from '../inventory/schema.js'
import {applyEdited, type ScaleOptions, type ScaleReport} from './scale.js'
import {type ShardLoad, waitForEmptyShard} from './jicofo-rest.js'

export interface ShardDrainOptions extends ScaleOptions {
  name: string
  /** Undo a drain: the shard takes new rooms again. */
  off?: boolean
  requestTimeoutMs: number
  wait?: {intervalMs: number; onProgress?: (load: ShardLoad, waitedMs: number) => void; timeoutMs: number}
}

/** The relayd hosts that serve a shard: its prosody and its jicofo (once when they share a host). */
const shardHosts = (shard: Shard) => [...new Set([shard.prosody.address, shard.jicofo.address])]

/**
 * `scale drain-shard` (and `--off`, `undrain-shard`). HAProxy: `set server … state drain` on the
 * shard's prosody and jicofo servers through the runtime API (no reload), read back with `show
 * servers state`, and the inventory gets `state: drain`, whose rendered `weight 0` is installed
 * without a reload so a later reload or re-render keeps the drain. New rooms then hash to the other
 * shards; rooms in the stick table keep reaching this one until they end. A request through the
 * proxy verifies the change (apply's check); when it fails, the change is undone and read back
 * (exit 12), and only an undo that fails exits 13. relayd: `relayctl host disable` on the shard's
 * hosts (relayd has no stick table: see docs/rooms-and-shards.md). `wait` polls the shard's jicofo
 * until it holds no conference and no participant, or the time is up (exit 11).
 */
export async function drainShard(options: ShardDrainOptions): Promise<ScaleReport> {
  const {inventory, text} = await loadInventoryText(options.file)
  const shard = inventory.shards.find((s) => s.name === options.name)
  if (!shard) throw new JproxyError('usage', `no shard named "${options.name}" (${inventory.shards.map((s) => s.name).join(', ')})`)
  const state = options.off ? 'ready' : 'drain'
  if (state === 'drain' && inventory.shards.every((s) => s === shard || s.state === 'drain')) {
    throw new JproxyError('usage', `${shard.name} is the last shard taking new rooms; draining it would leave none`)
  }

  const edited = editShardState(text, shard.name, state)
  const warnings: string[] = []
  let detail: string
  if (options.target === 'haproxy') {
    const socket = inventory.targets.haproxy.socket
    const servers = `be_prosody/${shard.name} and be_jicofo/${shard.name}`
    const previous = state === 'drain' ? 'ready' : 'drain'
    /** Sets the shard's servers to `to` and reads them back through the runtime API; throws unless they read back so. */
    const setAndReadBack = async (to: 'drain' | 'ready') => {
      await setShardState(socket, shard.name, to)
      const problems = await shardStateProblems(socket, shard.name, to)
      if (problems.length > 0) throw new Error(`set to ${to}, but ${problems.join('; ')}`)
    }

    // applyTarget then verifies with a request through the proxy (trusting --ca, else proxy.tls.ca,
    // else the system's CAs) and calls undo when that fails.
    const runtime = {
      apply: async () => {
        await setAndReadBack(state).catch(async (error: Error) => {
          await setShardState(socket, shard.name, previous).catch(() => undefined)
          throw error
        })
        return `${servers} set to ${state} at run time and read back; no reload`
      },
      undo: () => setAndReadBack(previous),
    }
    if (edited.text === text) {
      // The inventory already says so (a repeated command): the running proxy is brought in line.
      detail = `the inventory already said ${state}; ${await runtimeOrFail(runtime.apply)}`
    } else {
      const apply = await applyEdited(options, text, edited, runtime)
      if (apply.exitCode !== 0) {
        const stuck = apply.outcome === 'rollback-failed' ? `; the running HAProxy may still have ${servers} set to ${state} (show servers state)` : ''
        const not = `${shard.name} not ${state === 'drain' ? 'drained' : 'undrained'}`
        const message = `${not} (the inventory is as it was): ${apply.message}${stuck}`
        return {apply, exitCode: apply.exitCode, id: shard.name, message, warnings: apply.warnings}
      }

      warnings.push(...apply.warnings)
      // An unchanged haproxy.cfg (it already gave the shard this weight) skips the runtime change: it is made here.
      detail = apply.reload
        ? `${apply.reload.detail}; verified through the proxy`
        : `the installed haproxy.cfg already said ${state}; ${await runtimeOrFail(runtime.apply)}`
    }
  } else {
    for (const host of shardHosts(shard)) {
      const command = ['relayctl', 'host', state === 'drain' ? 'disable' : 'enable', host]
      const result = await options.run(command, {timeoutMs: 10_000})
      if (result.code !== 0) throw new JproxyError('runtimeFailed', `${command.join(' ')}: ${`${result.stdout}${result.stderr}`.trim()}`)
    }

    // relayd.conf does not change with a drain (a reload would enable the hosts again): only the inventory records it.
    if (edited.text !== text) await atomicWrite(options.file, edited.text)
    detail = `relayctl host ${state === 'drain' ? 'disable' : 'enable'} ${shardHosts(shard).join(' ')}`
    if (state === 'drain') warnings.push('relayd hashes rooms modulo its live hosts: disabling this shard moved rooms of other shards too, and a relayd reload enables it again')
  }

  const doing = state === 'drain' ? 'draining: no new rooms' : 'back in service: takes new rooms'
  if (state === 'ready' || !options.wait) return {exitCode: ExitCode.ok, id: shard.name, message: `${shard.name} ${doing} (${detail})`, warnings}

  const waited = await waitForEmptyShard(shard, {...options.wait, requestTimeoutMs: options.requestTimeoutMs})
  const seconds = Math.round(waited.waitedMs / 1000)
  const counts = {conferences: waited.load.conferences, participants: waited.load.participants}
  return waited.emptied
    ? {...counts, exitCode: ExitCode.ok, id: shard.name, message: `${shard.name} drained: no conferences left after ${seconds} s`, warnings}
    : {...counts, exitCode: ExitCode.refused, id: shard.name, message: `${shard.name} still has ${counts.conferences} conferences and ${counts.participants} participants after ${seconds} s (it stays draining)`, warnings}
}

async function runtimeOrFail(apply: () => Promise<string>): Promise<string> {
  try {
    return await apply()
  } catch (error) {
    throw new JproxyError('runtimeFailed', `HAProxy: ${(error as Error).message}`)
  }
}
