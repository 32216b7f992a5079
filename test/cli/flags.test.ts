import {expect} from 'chai'
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

/**
 * Flag names whose meaning is the command's own, so each of these commands defines its own flag;
 * every other name used by several commands is one shared definition.
 */
const OWN_MEANING: Record<string, {commands?: string[]; why: string}> = {
  deadline: {
    commands: ['fleet publish', 'jvb announce', 'probe', 'validate dns'],
    why: 'the whole run (probe, validate dns), the whole wait for a rollout (fleet publish), the drain after a stop (jvb announce)',
  },
  force: {why: 'what is overridden differs: a gate, a bridge still in use, an existing file'},
  interval: {commands: ['fleet agent'], why: 'how often the agent reports to etcd, not how often a drain is checked'},
  id: {why: 'probe: a filter (repeatable); jvb announce: the bridge it announces'},
  inventory: {commands: ['init'], why: 'the file init writes, not one that is read'},
  name: {commands: ['fleet agent'], why: "this proxy's name in the fleet, not a name the certificate must cover"},
  off: {why: 'what the drain undoes differs (a bridge, a shard)'},
  quiet: {why: 'probe prints only state changes, apply only changes and failures'},
  shard: {why: 'probe: a filter (repeatable); add-jvb: where the bridge goes'},
  target: {commands: ['validate config'], why: 'the targets to check, pf included (repeatable)'},
  timeout: {why: 'bounds one request, and which request differs (a probe, a handshake)'},
  wait: {why: 'what is waited for differs (no participants, no conferences)'},
}

interface CommandClass {
  flags?: Record<string, unknown>
}

/** Every command class under src/commands, by its id (`scale drain-shard`). */
async function commandClasses(): Promise<Map<string, CommandClass>> {
  const classes = new Map<string, CommandClass>()
  for (const file of (await readdir('src/commands', {recursive: true})).sort()) {
    if (!file.endsWith('.ts')) continue
    const module = (await import(pathToFileURL(join(process.cwd(), 'src/commands', file)).href)) as {default: CommandClass}
    classes.set(file.replace(/\.ts$/, '').split('/').join(' '), module.default)
  }

  return classes
}

describe('command flags: one definition per flag, one name per meaning', () => {
  let commands: Map<string, CommandClass>
  before(async () => {
    commands = await commandClasses()
  })

  const holders = (name: string) => [...commands].filter(([, c]) => c.flags?.[name] !== undefined).map(([id, c]) => ({flag: c.flags![name], id}))

  it('a flag name used by several commands is one shared definition, unless its meaning is the command\'s own', () => {
    const names = new Set([...commands.values()].flatMap((c) => Object.keys(c.flags ?? {})))
    const copies: string[] = []
    for (const name of names) {
      const own = OWN_MEANING[name]
      if (own && !own.commands) continue
      const shared = holders(name).filter((h) => !own?.commands?.includes(h.id))
      const definitions = new Set(shared.map((h) => h.flag))
      if (definitions.size > 1) copies.push(`--${name}: ${definitions.size} definitions in ${shared.map((h) => h.id).join(', ')}`)
    }

    expect(copies).to.deep.equal([])
  })

  it('--ca, --max-sessions and the drains\' --deadline are each defined once', () => {
    // Compared among the commands' own modules: a static import here may be a second instance of src/cli/flags.ts.
    const definitions = (name: string, ids: string[]) => new Set(holders(name).filter((h) => ids.includes(h.id)).map((h) => h.flag))
    const ca = ['apply', 'fleet agent', 'probe', 'scale add-jvb', 'scale drain-shard', 'scale remove-jvb', 'scale undrain-shard', 'tls deploy', 'validate tls']
    expect(holders('ca').map((h) => h.id)).to.have.members(ca)
    expect(definitions('ca', ca).size).to.equal(1)
    const maxSessions = ['apply', 'scale add-jvb', 'scale remove-jvb', 'tls deploy']
    expect(holders('max-sessions').map((h) => h.id)).to.have.members(maxSessions)
    expect(definitions('max-sessions', maxSessions).size).to.equal(1)
    const deadline = definitions('deadline', ['scale drain-jvb', 'scale drain-shard'])
    expect(deadline.size).to.equal(1)
    expect([...deadline][0]).to.deep.include({aliases: ['timeout'], deprecateAliases: true})
  })

  it('no command keeps a flag named after a meaning it does not have: no --timeout that bounds a whole wait', () => {
    for (const {flag, id} of holders('timeout')) {
      expect((flag as {description: string}).description, id).to.match(/^per[ -]/)
    }
  })
})
