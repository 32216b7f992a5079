import {expect} from 'chai'
import {readFile} from 'node:fs/promises'

import {runTool as run, verifyUnit} from '../support/units.js'

const UNIT = 'contrib/systemd/jproxy-probe.service'
const RC_D = 'contrib/rc.d/jproxy_probe'

describe('the watcher service files under contrib/', function () {
  this.timeout(60_000)

  it('the systemd unit passes systemd-analyze verify without a word', async () => {
    // verify reports bad keys and values as warnings but still exits 0: silence is the pass.
    expect(await verifyUnit(UNIT)).to.deep.equal({code: 0, output: ''})
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
