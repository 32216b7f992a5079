import {execFile} from 'node:child_process'
import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {BIN} from './cli.js'

/** The one line of docs/certificates.md's shell blocks that starts with `start`. */
export async function docsCommand(start: string): Promise<string> {
  const text = await readFile('docs/certificates.md', 'utf8')
  const lines = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n'))
  const line = lines.find((l) => l.startsWith(start))
  if (!line) throw new Error(`docs/certificates.md has no command starting with "${start}"`)
  return line
}

/** Runs a command line through sh, as certbot's timer or cron would, bounded by `timeoutMs`. */
export function shell(line: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{code: number; output: string}> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', line], {env: {...process.env, ...env}, timeout: timeoutMs}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr})
    })
  })
}

/** A `jproxy` on PATH that runs this checkout's built CLI, so the docs' lines run as written. */
export async function jproxyOnPath(dir: string): Promise<string> {
  const bin = join(dir, 'bin')
  await mkdir(bin, {recursive: true})
  await writeFile(join(bin, 'jproxy'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
  await chmod(join(bin, 'jproxy'), 0o755)
  return bin
}
