import {existsSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {JproxyError} from '../errors.js'
import {BoundedReadError, readBoundedFd, readBoundedFile, readRegularFileSync} from '../system/bounded-read.js'
import type {CommandRunner} from '../system/command.js'
import {lintRelaydConf} from './lint.js'
import type {Diagnostic} from './model.js'
import {type NativeVerdict, relaydNativeCheck} from './native-check.js'
import {RELAYD_INPUT_LIMITS} from './parser.js'

/** How stdin is named in findings. */
export const STDIN_NAME = '<stdin>'

export interface LintFileOptions {
  checkFiles?: boolean
  /** The file to lint; `-` means `stdin`. */
  file: string
  /** relayd's path when it is installed: its `-n` verdict is reported beside ours. */
  relayd?: string
  run: CommandRunner
  /** Text read from stdin, when `file` is `-`. */
  stdin?: string
  strict?: boolean
}

/** The outcome of `jproxy lint relayd`: our findings, then relayd's own when it ran. */
export interface LintReport {
  file: string
  findings: Diagnostic[]
  native?: NativeVerdict
  ok: boolean
}

/**
 * Lints one relayd.conf from disk or stdin. Includes are read as relayd reads them (paths as
 * written, relative to the working directory); `checkFiles` looks for the TLS keypairs on this
 * machine. With relayd installed, its own check runs on the same text.
 */
export async function lintRelaydFile(options: LintFileOptions): Promise<LintReport> {
  const fromStdin = options.file === '-'
  const name = fromStdin ? STDIN_NAME : options.file
  let text: string
  try {
    text = fromStdin ? (options.stdin ?? '') : await readBoundedFile(options.file, RELAYD_INPUT_LIMITS.fileBytes)
  } catch (error) {
    throw unreadable(options.file, error)
  }

  const findings = lintRelaydConf(text, {
    checkFiles: options.checkFiles,
    file: name,
    fileExists: existsSync,
    // relayd reads what it includes with fopen; only regular files of bounded size are read here.
    readFile(path) {
      try {
        return readRegularFileSync(path, RELAYD_INPUT_LIMITS.fileBytes)
      } catch (error) {
        return error instanceof BoundedReadError && error.code !== 'ENOENT' ? {reason: error.reason} : undefined
      }
    },
    strict: options.strict,
  })

  const native = options.relayd === undefined ? undefined : await nativeCheck(options.relayd, fromStdin ? text : undefined, options.file, options.run)
  const all = [...findings, ...(native?.findings ?? [])]
  return {file: name, findings: all, native, ok: all.every((d) => d.severity !== 'error')}
}

/** Reads the config from stdin, bounded like a file; a directory or a stream that fails is unreadable (9). */
export async function readRelaydStdin(fd = 0): Promise<string> {
  try {
    return await readBoundedFd(fd, STDIN_NAME, RELAYD_INPUT_LIMITS.fileBytes)
  } catch (error) {
    throw unreadable(STDIN_NAME, error)
  }
}

function unreadable(file: string, error: unknown): JproxyError {
  const reason = error instanceof BoundedReadError ? error.reason : ((error as NodeJS.ErrnoException).code ?? (error as Error).message)
  return new JproxyError('inputUnreadable', `cannot read ${file}: ${reason}`, {file})
}

/** relayd reads files only: stdin goes through a private temporary copy, renamed back in the findings. */
async function nativeCheck(relayd: string, stdin: string | undefined, file: string, run: CommandRunner): Promise<NativeVerdict> {
  if (stdin === undefined) return relaydNativeCheck(relayd, file, run)
  const dir = await mkdtemp(join(tmpdir(), 'jproxy-lint-'))
  try {
    const copy = join(dir, 'relayd.conf')
    await writeFile(copy, stdin, {mode: 0o600})
    const verdict = await relaydNativeCheck(relayd, copy, run)
    return {...verdict, findings: verdict.findings.map((d) => (d.file === copy ? {...d, file: STDIN_NAME} : d))}
  } finally {
    await rm(dir, {force: true, recursive: true})
  }
}
