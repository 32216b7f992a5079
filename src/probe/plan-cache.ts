import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {atomicWrite} from '../apply/atomic-write.js'
import type {ProbePlan} from './plan.js'

/**
 * The probe plan of an inventory, cached so `probe --host` (relayd's check script when the
 * watcher's state is stale) starts with `node:` built-ins only: no yaml, no zod. Every full load
 * of the inventory writes it; it is valid only for the same inventory path, inode, size and
 * mtime and the same jproxy version, so an edit, a `jproxy scale`, or an upgrade makes it a miss,
 * which takes the full path and writes it again. Runtime imports here stay `node:` only.
 */
export interface PlanCacheKey {
  ino: string
  mtimeNs: string
  path: string
  size: string
  version: string
}

interface CacheFile {
  key: PlanCacheKey
  plan: ProbePlan
}

/** Where plan caches live: JPROXY_CACHE_DIR, else jproxy's state folder. Never created here. */
export function planCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return env.JPROXY_CACHE_DIR ?? (platform === 'openbsd' ? '/var/db/jproxy' : '/var/lib/jproxy')
}

/** One file per inventory path. */
export function planCacheFile(inventoryFile: string, dir: string): string {
  return join(dir, `probe-plan-${createHash('sha256').update(resolve(inventoryFile)).digest('hex').slice(0, 16)}.json`)
}

let version: null | string | undefined
/**
 * jproxy's version, from its package.json (a changed jproxy may plan differently); null when it
 * cannot be found (a relocated build), and then there is no cache at all rather than a stale one.
 */
export function jproxyVersion(): null | string {
  if (version === undefined) {
    try {
      version = String((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: unknown}).version)
    } catch {
      version = null
    }
  }

  return version
}

/** The key of the inventory file as it is now; undefined when it cannot be read. */
export async function planCacheKey(inventoryFile: string): Promise<PlanCacheKey | undefined> {
  const info = await stat(inventoryFile, {bigint: true}).catch(() => undefined)
  const version = jproxyVersion()
  if (!info || version === null) return undefined
  return {ino: String(info.ino), mtimeNs: String(info.mtimeNs), path: resolve(inventoryFile), size: String(info.size), version}
}

const sameKey = (a: PlanCacheKey, b: PlanCacheKey) => a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.path === b.path && a.size === b.size && a.version === b.version

/** The cached plan of `inventoryFile` when it is still valid, else undefined (a miss). */
export async function readPlanCache(inventoryFile: string, dir = planCacheDir()): Promise<ProbePlan | undefined> {
  const key = await planCacheKey(inventoryFile)
  if (!key) return undefined
  try {
    const cached = JSON.parse(await readFile(planCacheFile(inventoryFile, dir), 'utf8')) as CacheFile
    return cached.key && sameKey(cached.key, key) && Array.isArray(cached.plan?.targets) ? cached.plan : undefined
  } catch {
    return undefined
  }
}

/**
 * Writes the plan for the inventory as it was read (`key` taken before reading it, so an edit in
 * between leaves a key that no longer matches). Best effort: a folder that does not exist or
 * cannot be written only means no cache. Unchanged caches are not rewritten.
 */
export async function writePlanCache(key: PlanCacheKey, plan: ProbePlan, dir = planCacheDir()): Promise<boolean> {
  const file = planCacheFile(key.path, dir)
  try {
    const text = `${JSON.stringify({key, plan} satisfies CacheFile)}\n`
    if ((await readFile(file, 'utf8').catch(() => undefined)) === text) return false
    await atomicWrite(file, text)
    return true
  } catch {
    return false
  }
}
