import {createHash} from 'node:crypto'
import {rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join, resolve} from 'node:path'

import {atomicWrite} from '../system/atomic-write.js'
import {JproxyError} from '../errors.js'
import {type InventoryLoadHook, loadInventory} from '../inventory/load.js'
import {proxyView} from '../inventory/proxy-view.js'
import type {Diagnostic} from '../relayd/model.js'
import {type CommandRunner, findOnPath, runCommand} from '../system/command.js'
import {checkRendered} from './check-rendered.js'
import {contextFor, includedText} from './context.js'
import {renderTarget, type TargetName, targetOutputPath} from './targets.js'

/** What `jproxy gen` produced. */
export interface Generated {
  bytes: number
  /** The rendered config; left out of reports when it was written to a file. */
  config?: string
  /** The linter's warnings (errors refuse the output). */
  findings: Diagnostic[]
  out?: string
  sha256: string
  target: TargetName
}

export interface GenerateOptions {
  inventory: string
  onLoad?: InventoryLoadHook
  out?: string
  /** Render this fleet proxy's view (proxyView). */
  proxy?: string
  run?: CommandRunner
  target: TargetName
}

/**
 * Loads the inventory, renders one target, lints it and, with `out`, writes it atomically.
 * Refuses to write over the target's live config: only `jproxy apply` may, after checking it.
 */
export async function generate(options: GenerateOptions): Promise<Generated> {
  const loaded = await loadInventory(options.inventory, options.onLoad)
  const inventory = options.proxy === undefined ? loaded : proxyView(loaded, options.proxy)
  const context = await contextFor(inventory, options.target)
  const config = renderTarget(inventory, options.target, context)
  const live = targetOutputPath(inventory, options.target)
  const findings = checkRendered(options.target, config, options.out ?? basename(live), includedText(context))
  if (options.target === 'pf') await checkWithPfctl(config, options.run ?? runCommand)
  const summary = {bytes: Buffer.byteLength(config), findings, target: options.target}
  if (options.out === undefined) return withSha256({...summary, config}, config)

  if (resolve(options.out) === resolve(live)) {
    throw new JproxyError('usage', `${options.out} is the live ${options.target} config; install it with \`jproxy apply\`, which checks it first`)
  }

  if (await sameFile(options.out, options.inventory)) {
    throw new JproxyError('usage', `${options.out} is the inventory being read; write the config to another file`)
  }

  try {
    await atomicWrite(options.out, config)
  } catch (error) {
    if (error instanceof JproxyError) throw error
    throw new JproxyError('writeFailed', `cannot write ${options.out}: ${(error as Error).message}`, {path: options.out})
  }

  return withSha256({...summary, out: options.out}, config)
}

/**
 * Adds `sha256`, computed when read (by --json): hashing loads node:crypto, which costs a plain
 * `gen` more start-up time than the rest of its output.
 */
function withSha256<T extends object>(summary: T, config: string): T & {sha256: string} {
  const sha256 = () => createHash('sha256').update(config).digest('hex')
  return Object.defineProperty(summary, 'sha256', {enumerable: true, get: sha256}) as T & {sha256: string}
}

/** Whether two paths name one file (through symlinks and hard links too); false when either is missing. */
async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true
  const [x, y] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)])
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino
}

/** pf's own parser, where pf exists (OpenBSD): `pfctl -nf` on the rules, which loads nothing. */
async function checkWithPfctl(config: string, run: CommandRunner): Promise<void> {
  const pfctl = findOnPath('pfctl')
  if (!pfctl) return
  const temp = join(tmpdir(), `jproxy-pf-${process.pid}.conf`)
  await writeFile(temp, config, {mode: 0o600})
  try {
    const result = await run([pfctl, '-nf', temp], {timeoutMs: 30_000})
    if (result.code !== 0) throw new JproxyError('checkFailed', `pfctl -nf refused the rendered rules, so they are not written:\n${`${result.stderr}${result.stdout}`.trim()}`)
  } finally {
    await rm(temp, {force: true})
  }
}
