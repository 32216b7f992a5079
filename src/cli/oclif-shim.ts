import {format} from 'node:util'

/*
 * The part of @oclif/core that the hot commands use (Command, Flags, Args), for the start-up
 * bundle only: scripts/bundle.mjs aliases '@oclif/core' to this file there, so `gen`, `validate
 * config`, `lint relayd` and `probe` run their own command classes, flag definitions included,
 * without loading oclif. It parses the plain cases only; anything else (help, --json to a
 * terminal, an unknown or repeated flag, a flag that excludes others, a value oclif would
 * refuse) throws FallBack before the command has done anything, and bin/run.js hands the same
 * argv to oclif, which reports it the usual way.
 */

/** Thrown where only oclif knows the answer; nothing has run yet. */
export class FallBack extends Error {}

type Definition = Record<string, unknown> & {
  allowNo?: boolean
  char?: string
  default?: unknown
  env?: string
  multiple?: boolean
  options?: readonly string[]
  parse?: (input: string) => Promise<unknown>
  type: 'boolean' | 'option'
}

const UNSUPPORTED = ['dependsOn', 'exactlyOne', 'exclusive', 'relationships', 'required', 'delimiter']

const option = (defaults: Record<string, unknown> = {}) => (options: Record<string, unknown> = {}): Definition => ({...defaults, ...options, type: 'option'})

export const Flags = {
  boolean: (options: Record<string, unknown> = {}): Definition => ({...options, type: 'boolean'}),
  custom: option,
  integer: (options: Record<string, unknown> = {}): Definition => ({...options, type: 'option', parse: parseInteger(options)}),
  option,
  string: (options: Record<string, unknown> = {}): Definition => option()(options),
}

export const Args = {
  string: (options: Record<string, unknown> = {}) => options,
}

function parseInteger(options: {max?: number; min?: number}): (input: string) => Promise<number> {
  return async (input) => {
    const value = Number(input)
    if (!/^-?\d+$/.test(input) || (options.min !== undefined && value < options.min) || (options.max !== undefined && value > options.max)) throw new FallBack()
    return value
  }
}

interface CommandClass {
  args?: Record<string, Record<string, unknown>>
  flags?: Record<string, Definition>
}

export abstract class Command {
  static args: Record<string, Record<string, unknown>> = {}
  static enableJsonFlag = false
  static flags: Record<string, Definition> = {}

  constructor(readonly argv: string[]) {}

  /** Runs the command as oclif's `_run` does: run, catch, and the result as JSON under --json. */
  async runHot(): Promise<void> {
    // oclif colours JSON for a terminal (with a user's theme); into a pipe or a file it writes it plain.
    if (this.jsonEnabled() && process.stdout.isTTY) throw new FallBack()
    let result: unknown
    try {
      result = await this.run()
    } catch (error) {
      if (error instanceof FallBack) throw error
      await this.catch(error as Error)
    }

    if (result && this.jsonEnabled()) this.logJson(result)
  }

  abstract run(): Promise<unknown>

  protected async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    process.exitCode = process.exitCode ?? error.exitCode ?? 1
    throw error
  }

  /** `--json` given to a command that offers it (bin/run.js leaves argv with `--` to oclif). */
  protected jsonEnabled(): boolean {
    return (this.constructor as typeof Command).enableJsonFlag && this.argv.includes('--json')
  }

  protected log(message = ''): void {
    if (!this.jsonEnabled()) console.log(format(message))
  }

  protected logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  protected logToStderr(message = ''): void {
    if (!this.jsonEnabled()) console.error(format(message))
  }

  // `any` as oclif's own parse types the flags its commands read.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  protected async parse(command: CommandClass & {enableJsonFlag?: boolean}): Promise<{args: Record<string, string | undefined>; flags: Record<string, any>}> {
    const flags = command.enableJsonFlag ? {...command.flags, json: Flags.boolean()} : (command.flags ?? {})
    return parseArgv(this.argv, flags, command.args ?? {})
  }
}

/** oclif's parse for plain argv: long and short flags (`--a b`, `--a=b`, `-a b`, `-ab`), `--no-x`, positional args. */
export async function parseArgv(argv: string[], definitions: Record<string, Definition>, argDefinitions: Record<string, Record<string, unknown>>) {
  const byChar = new Map(Object.entries(definitions).filter(([, d]) => d.char).map(([name, d]) => [d.char!, name]))
  const given: Record<string, unknown> = {}
  const positional: string[] = []
  const set = (name: string, value: unknown) => {
    if (definitions[name]?.multiple) {
      given[name] = [...((given[name] as unknown[] | undefined) ?? []), value]
      return
    }

    if (name in given) throw new FallBack() // oclif refuses a repeated flag
    given[name] = value
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    let name: string | undefined
    let inline: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      inline = eq === -1 ? undefined : arg.slice(eq + 1)
      if (!(name in definitions) && name.startsWith('no-') && definitions[name.slice(3)]?.allowNo && inline === undefined) {
        set(name.slice(3), false)
        continue
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      name = byChar.get(arg[1])
      if (name === undefined) throw new FallBack()
      inline = arg.length > 2 ? arg.slice(2) : undefined
      if (inline?.startsWith('=')) throw new FallBack()
    } else {
      positional.push(arg)
      continue
    }

    const definition = definitions[name]
    if (definition === undefined) throw new FallBack()
    if (definition.type === 'boolean') {
      if (inline !== undefined) throw new FallBack()
      set(name, true)
      continue
    }

    const value = inline ?? argv[++i]
    if (value === undefined || (inline === undefined && value.startsWith('-') && value !== '-')) throw new FallBack()
    set(name, value)
  }

  const flags: Record<string, unknown> = {}
  for (const [name, definition] of Object.entries(definitions)) {
    let value = given[name]
    // How such a flag combines with others (or that it must be given) is oclif's to judge.
    if (UNSUPPORTED.some((key) => definition[key] !== undefined && definition[key] !== false) && (value !== undefined || definition.required)) throw new FallBack()
    if (value === undefined && definition.env !== undefined && process.env[definition.env] !== undefined) {
      if (definition.type === 'boolean') throw new FallBack()
      value = process.env[definition.env]
    }

    if (Array.isArray(value)) {
      // A repeatable flag (`--target relayd --target pf`): each value checked as oclif does.
      if (definition.parse || value.some((v: string) => definition.options && !definition.options.includes(v))) throw new FallBack()
    } else if (typeof value === 'string') {
      if (definition.options && !definition.options.includes(value)) throw new FallBack()
      if (definition.parse) value = await definition.parse(value).catch(() => {
        throw new FallBack()
      })
    } else if (value === undefined) {
      if (typeof definition.default === 'function') throw new FallBack()
      value = definition.default
    }

    if (value !== undefined) flags[name] = value
  }

  const argNames = Object.keys(argDefinitions)
  if (positional.length > argNames.length) throw new FallBack()
  const args: Record<string, string | undefined> = {}
  for (const [i, name] of argNames.entries()) {
    if (positional[i] === undefined && argDefinitions[name].required) throw new FallBack()
    args[name] = positional[i] ?? (argDefinitions[name].default as string | undefined)
  }

  return {args, flags}
}
