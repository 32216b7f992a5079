import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/** The built CLI, as an admin or cron runs it. */
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const USAGE = fileURLToPath(new URL('report-usage.mjs', import.meta.url))

export interface Measured {
  code: number
  maxRssMiB: number
  stdout: string
  wallMs: number
}

/**
 * One node process with `args`, timed from spawn to exit, with its peak RSS (report-usage.mjs
 * preloaded). Asynchronous, so servers in the benchmarking process keep answering meanwhile.
 */
export function measureNode(args: string[]): Promise<Measured> {
  const started = performance.now()
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', USAGE, ...args], {maxBuffer: 256 * 1024 * 1024}, (error, stdout, stderr) => {
      const used = JSON.parse(/USAGE (.*)/.exec(stderr)?.[1] ?? '{"maxRssKiB": 0}')
      resolve({code: typeof error?.code === 'number' ? error.code : 0, maxRssMiB: used.maxRssKiB / 1024, stdout, wallMs: performance.now() - started})
    })
  })
}

/** `jproxy ARGS`, measured. */
export const measureCli = (args: string[]) => measureNode([BIN, ...args])

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
