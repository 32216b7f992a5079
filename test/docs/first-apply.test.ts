import {expect} from 'chai'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {jproxyOnPath, shell} from '../support/docs-commands.js'
import {type Stage, startStage, through, writeInventory} from '../support/haproxy-stage.js'

/** The shell lines of the first ```sh block after `heading` in docs/apply.md. */
async function blockAfter(heading: string): Promise<string[]> {
  const text = await readFile('docs/apply.md', 'utf8')
  const at = text.indexOf(heading)
  const match = at < 0 ? null : /```sh\n([\s\S]*?)```/.exec(text.slice(at))
  if (!match) throw new Error(`docs/apply.md has no sh block after "${heading}"`)
  return match[1].trim().split('\n')
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * docs/apply.md's "First apply" by hand, run as written: HAProxy is not running and there is no
 * live file; the lines start it in master-worker mode and apply installs the inventory's config.
 * Only where things live differs (the test's folder stands in for /etc and /run).
 */
describe('docs/apply.md "First apply", run as written against real HAProxy on loopback', function () {
  this.timeout(300_000)
  let dir: string
  let stage: Stage
  let pidFile: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-first-apply-'))
    stage = await startStage(dir)
    await stage.haproxy.stop()
    await rm(stage.live)
    pidFile = join(dir, 'haproxy.pid')
  })
  after(async () => {
    // The HAProxy the docs' lines started (its master's pid from the pid file), and only it.
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim().split('\n')[0])
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM')
      for (const deadline = Date.now() + 10_000; alive(pid) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50))
    }

    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  it('starts HAProxy with -W -S and applies; apply refuses (exit 11) while HAProxy is not running', async () => {
    const inventoryFile = await writeInventory(stage, 'jproxy', stage.data)
    const places: Record<string, string> = {
      '/etc/haproxy/haproxy.cfg': stage.live,
      '/etc/jproxy/jproxy.yaml': inventoryFile,
      '/run/haproxy-master.sock': stage.masterSocket,
      '/run/haproxy.pid': pidFile,
      '/run/haproxy/admin.sock': stage.socket,
    }
    const place = (line: string) => Object.entries(places).reduce((text, [from, to]) => text.replaceAll(from, to), line)
    const env = {NODE_EXTRA_CA_CERTS: stage.pem, PATH: `${await jproxyOnPath(dir)}:${process.env.PATH}`}
    // An apply waits at most for the lock, a reload and its rollback, and its probes.
    const {apply, health} = Inventory.parse(stage.data)
    const timeoutMs = apply.lockWait + 2 * apply.reloadTimeout + 10 * health.timeout + 30_000

    const lines = await blockAfter('## First apply')
    expect(lines.some((l) => /^haproxy -W .*-S /.test(l)), 'the block starts HAProxy with -W and -S').to.equal(true)
    const dryRun = lines.find((l) => l.startsWith('jproxy apply --dry-run'))!
    const early = await shell(place(dryRun), env, timeoutMs)
    expect(early.code, early.output).to.equal(11)
    expect(early.output).to.include('"First apply" in docs/apply.md')

    for (const line of lines) {
      const result = await shell(place(line), env, timeoutMs)
      expect(result.code, `${line}\n${result.output}`).to.equal(0)
    }

    expect(await readFile(stage.live, 'utf8')).to.equal(renderTarget(Inventory.parse(stage.data), 'haproxy'))
    expect((await through(stage)).status).to.equal(200)
  })
})
