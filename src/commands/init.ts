import {Flags} from '@oclif/core'

import {defaultTarget, targetFlag} from '../cli/flags.js'
import {askAll} from '../cli/prompt.js'
import {JproxyCommand} from '../cli/jproxy-command.js'
import {JproxyError} from '../errors.js'
import {answerProblem, refuseExisting} from '../init/answers.js'
import {type InitReport, writeStarter} from '../init/init.js'
import {paperAnswers, parseEndpoint, type StarterAnswers} from '../init/starter.js'
import {installedSchemaPath} from '../inventory/json-schema.js'
import {DEFAULT_INVENTORY} from '../inventory/load.js'

const QUESTIONS = [
  {flag: 'domain', question: 'Public name of the Jitsi Meet site (e.g. meet.example.org)'},
  {flag: 'listen', question: 'IPv4 address the proxy listens on'},
  {flag: 'web', question: 'Web node (nginx with jitsi-meet) address[:port]'},
  {flag: 'prosody', question: "The shard's prosody address[:port]"},
  {flag: 'jvb', question: "The shard's videobridge address (empty: none yet)"},
] as const

export default class Init extends JproxyCommand {
  static override description = `Writes a commented starter inventory (one web node, one shard with prosody, jicofo on the
prosody host and a videobridge) from flags, asking on the terminal for what the flags leave out.
An existing file is refused before the first question (exit 18; replaced only with --force); each answer
is checked when given, with the inventory's own rules, and asked again until it passes. Ctrl-C
(exit 130) or Ctrl-D (exit 2) stops without writing. A mixed-case domain is lower-cased in the
certificate file names. The first line points editors with the YAML language server at jproxy's
JSON Schema, so they complete and check fields. The text is validated like \`validate config\`
before anything is written.

More: docs/inventory.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --domain meet.example.org --listen 192.0.2.10 --web 10.0.0.2 --prosody 10.0.0.10 --jvb 10.0.0.21',
    '<%= config.bin %> <%= command.id %> --from-paper --domain meet.example.org --listen 203.0.113.10 -i /etc/jproxy/jproxy.yaml',
  ]

  static override flags = {
    domain: Flags.string({description: 'public name clients use', helpValue: 'NAME'}),
    force: Flags.boolean({description: 'replace the file if it exists'}),
    'from-paper': Flags.boolean({description: 'the paper\'s single-host layout: relayd, vmd guests at 100.64.N.3 (asks only domain and listen)'}),
    inventory: Flags.string({char: 'i', default: DEFAULT_INVENTORY, description: 'file to write', env: 'JPROXY_INVENTORY', helpValue: 'FILE'}),
    jvb: Flags.string({description: "one videobridge's address[:colibri port] (server-id jvb1)", helpValue: 'ADDRESS'}),
    listen: Flags.string({description: 'IPv4 address the proxy listens on', helpValue: 'IPV4'}),
    prosody: Flags.string({description: "the shard's prosody address[:port] (default port 5280)", helpValue: 'ADDRESS'}),
    schema: Flags.string({description: 'JSON Schema location for the editor line (default: the one installed with jproxy)', helpValue: 'URL|PATH'}),
    // Decides where the certificate files are looked for (HAProxy's one PEM, or relayd's keypair).
    target: targetFlag,
    web: Flags.string({description: 'the web node\'s address[:port] (default port 80)', helpValue: 'ADDRESS'}),
  }

  static override summary = 'Write a starter inventory'

  async run(): Promise<InitReport> {
    const {flags} = await this.parse(Init)
    // Before any question: nobody should answer them all to be told the file is there.
    await refuseExisting(flags.inventory, flags.force)
    const values: Partial<Record<(typeof QUESTIONS)[number]['flag'], string>> = {...flags}
    const needed = QUESTIONS.filter((q) => !(flags['from-paper'] && ['jvb', 'prosody', 'web'].includes(q.flag)))
    const missing = needed.filter((q) => values[q.flag] === undefined && q.flag !== 'jvb')
    if (missing.length > 0 && !process.stdin.isTTY) {
      throw new JproxyError('usage', `init needs ${missing.map((q) => `--${q.flag}`).join(', ')} (or a terminal to ask on)`)
    }

    if (missing.length > 0) {
      const unasked = needed.filter((q) => values[q.flag] === undefined)
      const answers = await askAll(unasked.map((q) => ({check: (answer: string) => answerProblem(q.flag, answer), question: q.question})))
      for (const [i, q] of unasked.entries()) values[q.flag] = answers[i]
    }

    const answers: StarterAnswers = flags['from-paper']
      ? paperAnswers(values.domain!, values.listen!)
      : {
          domain: values.domain!,
          jvb: values.jvb ? parseEndpoint(values.jvb) : undefined,
          listen: values.listen!,
          prosody: parseEndpoint(values.prosody!),
          target: defaultTarget(flags.target),
          web: parseEndpoint(values.web!),
        }
    const report = await writeStarter({
      answers,
      file: flags.inventory,
      force: flags.force,
      paper: flags['from-paper'],
      schemaUrl: flags.schema ?? installedSchemaPath(),
    })
    if (!this.jsonEnabled()) {
      const {jvbs, shards, web} = report.summary
      this.log(`${report.replaced ? 'replaced' : 'wrote'} ${report.file}: ${web} web node, ${shards} shard, ${jvbs} videobridge; valid`)
      this.log(`next: jproxy validate config -i ${report.file}, then jproxy validate dns and validate tls`)
    }

    return report
  }
}
