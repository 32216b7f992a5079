import {expect} from 'chai'

import {ExitCode} from '../../src/errors.js'
import {runCli} from '../support/cli.js'

describe('jproxy CLI conventions', () => {
  it('suggests the closest command for a misspelled one, also without a terminal, and exits 2', async () => {
    const {code, stderr} = await runCli(['valdate', 'config'])
    expect(code).to.equal(ExitCode.usage)
    expect(stderr).to.include('`valdate config` is not a jproxy command; did you mean `validate config`?')
    const unknown = await runCli(['frobnicate'])
    expect(unknown.code).to.equal(ExitCode.usage)
    expect(unknown.stderr).to.include('`frobnicate` is not a jproxy command').and.not.include('did you mean')
  })

  it('-h prints the same help as --help', async () => {
    const short = await runCli(['gen', 'haproxy', '-h'])
    const long = await runCli(['gen', 'haproxy', '--help'])
    expect(short.code).to.equal(0)
    expect(short.stdout).to.include('USAGE').and.equal(long.stdout)
  })

  it('offers bash and zsh completion scripts', async () => {
    for (const shell of ['bash', 'zsh']) {
      const {code, stdout} = await runCli(['autocomplete', 'script', shell])
      expect(code, shell).to.equal(0)
      expect(stdout, shell).to.include('JPROXY_AC_')
    }
  })

  it('an inventory path longer than a file name may be is a plain unreadable-inventory error (exit 3), not a stack trace', async () => {
    const long = `/tmp/${'x'.repeat(300)}/jproxy.yaml`
    const {code, stderr} = await runCli(['gen', 'haproxy', '-i', long])
    expect(code).to.equal(ExitCode.inventoryUnreadable)
    expect(stderr).to.equal(`jproxy: cannot read inventory ${long}: ENAMETOOLONG\n`)
  })

  it('gen --out - writes to stdout, like no --out', async () => {
    const dash = await runCli(['gen', 'haproxy', '-i', 'examples/two-shards.yaml', '--out', '-'])
    const none = await runCli(['gen', 'haproxy', '-i', 'examples/two-shards.yaml'])
    expect(dash.code).to.equal(0)
    expect(dash.stdout).to.include('backend be_web').and.equal(none.stdout)
  })

  it('--timeout bounds one request everywhere; the drains\' whole wait is --deadline, and their old --timeout still parses with a warning', async () => {
    for (const command of ['drain-jvb', 'drain-shard']) {
      const help = await runCli(['scale', command, '--help'])
      expect(help.stdout, command).to.include('--deadline=DURATION').and.not.include('--timeout')
    }

    for (const command of [['probe'], ['validate', 'tls']]) {
      expect((await runCli([...command, '--help'])).stdout, command.join(' ')).to.match(/--timeout=DURATION\s+per-/)
    }

    for (const [command, id] of [['drain-jvb', 'jvb1'], ['drain-shard', 's1']]) {
      const old = await runCli(['scale', command, id, '--wait', '--timeout', '1s', '-i', '/nonexistent.yaml'])
      expect(old.code, command).to.equal(ExitCode.inventoryUnreadable)
      expect(old.stderr, command).to.match(/"--timeout" flag has been deprecated\. Use "--deadline"/)
    }
  })
})

