import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {BIN} from '../support/cli.js'

const UNIT = 'contrib/systemd/jproxy-probe.service'
const RC_D = 'contrib/rc.d/jproxy_probe'

function run(command: string, args: string[], debianPackage: string): Promise<{code: number; output: string}> {
  return new Promise((resolve, reject) => {
    execFile(command, args, {timeout: 60_000}, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(new Error(`${command} not found: install the Debian package ${debianPackage}`))
      else resolve({code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr})
    })
  })
}

describe('the watcher service files under contrib/', function () {
  this.timeout(60_000)

  it('the systemd unit passes systemd-analyze verify without a word', async () => {
    // verify also wants ExecStart's program to exist: a copy names this build where jproxy installs.
    const dir = await mkdtemp(join(tmpdir(), 'jproxy-unit-'))
    try {
      const copy = join(dir, basename(UNIT))
      await writeFile(copy, (await readFile(UNIT, 'utf8')).replaceAll('/usr/local/bin/jproxy', BIN))
      // verify reports bad keys and values as warnings but still exits 0: silence is the pass.
      expect(await run('systemd-analyze', ['verify', copy], 'systemd')).to.deep.equal({code: 0, output: ''})
    } finally {
      await rm(dir, {force: true, recursive: true})
    }
  })

  it('the systemd unit runs the watcher, restarts it on failure and keeps its state folder', async () => {
    const unit = await readFile(UNIT, 'utf8')
    expect(unit).to.match(/^ExecStart=\/usr\/local\/bin\/jproxy probe --watch -i \/etc\/jproxy\/jproxy\.yaml$/m)
    expect(unit).to.match(/^Restart=on-failure$/m)
    // A folder of its own, not root's apply.dir (/var/lib/jproxy): systemd gives only the innermost one to User=.
    expect(unit).to.match(/^StateDirectory=jproxy\/probe$/m)
  })

  it('the OpenBSD rc.d script is valid sh for ksh-like shells and starts the watcher in the background', async () => {
    expect(await run('mksh', ['-n', RC_D], 'mksh')).to.deep.equal({code: 0, output: ''})
    const script = await readFile(RC_D, 'utf8')
    expect(script).to.match(/^daemon_flags="\S+jproxy probe --watch -i \S+"$/m)
    expect(script).to.match(/^rc_bg=YES$/m)
    expect(script).to.match(/^rc_cmd \$1$/m)
  })
})
