import {Args, Flags} from '@oclif/core'

import {inventoryFlag, strictFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {ExitCode} from '../../errors.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {lintRelaydFile, readRelaydStdin} from '../../relayd/lint-file.js'
import {formatDiagnostic} from '../../relayd/lint.js'
import type {Diagnostic} from '../../relayd/model.js'
import {targetOutputPath} from '../../render/targets.js'
import {findOnPath, runCommand} from '../../system/command.js'

const RELAYD_RULES = new Set(['semantic', 'syntax'])

export default class LintRelayd extends JproxyCommand {
  static override args = {
    file: Args.string({description: 'relayd.conf to check; `-` reads stdin (default: the inventory\'s relayd output path)'}),
  }

  static override description = `Checks a relayd.conf against relayd's own grammar and load-time rules (parse.y of OpenBSD 7.6),
printing \`FILE:LINE: message\` in relayd's wording, plus what relayd -n misses (more than 32
hosts in a relay table, rule tables a relay does not forward to) and the Jitsi rules: websocket
routes need \`http websockets\`, \`mode hash\` needs a fixed key, one listen address family per
hashed relay, no \`Connection: close\`, colibri routes name one server-id, and (with
--check-files) the TLS keypair files exist. Jitsi rules warn; --strict makes them errors. When
relayd is on PATH, \`relayd -n -f FILE\` runs too and its findings are listed with rule "relayd
-n". Exits 6 when anything is an error.

More: docs/lint-relayd.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> /etc/relayd.conf',
    '<%= config.bin %> <%= command.id %> --strict --check-files',
    '<%= config.bin %> gen relayd -i examples/two-shards.yaml | <%= config.bin %> <%= command.id %> - --strict',
  ]

  static override flags = {
    'check-files': Flags.boolean({description: 'check that the TLS keypair files relayd will load exist on this machine'}),
    inventory: inventoryFlag,
    native: Flags.boolean({allowNo: true, default: true, description: 'also run `relayd -n -f FILE` when relayd is on PATH'}),
    strict: strictFlag,
  }

  static override summary = 'Lint relayd.conf: relayd\'s grammar and checks, plus the Jitsi rules'

  async run(): Promise<Diagnostic[]> {
    const {args, flags} = await this.parse(LintRelayd)
    const file = args.file ?? targetOutputPath(await loadCommandInventory(flags.inventory), 'relayd')
    const report = await lintRelaydFile({
      checkFiles: flags['check-files'],
      file,
      relayd: flags.native ? findOnPath('relayd') : undefined,
      run: runCommand,
      stdin: file === '-' ? await readRelaydStdin() : undefined,
      strict: flags.strict,
    })

    if (!this.jsonEnabled()) {
      // relayd's own wording stays as relayd prints it; jproxy's extra rules and relayd -n say whose they are.
      for (const finding of report.findings) this.log(`${formatDiagnostic(finding)}${RELAYD_RULES.has(finding.rule) ? '' : ` [${finding.rule}]`}`)
      const errors = report.findings.filter((d) => d.severity === 'error').length
      const native = report.native ? `; relayd -n: ${report.native.ok ? 'configuration OK' : `exit ${report.native.exitCode}`}` : ''
      this.logToStderr(`${report.file}: ${errors} error(s), ${report.findings.length - errors} warning(s)${native}`)
    }

    if (!report.ok) process.exitCode = ExitCode.checkFailed
    return report.findings
  }
}
