import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {chmod, mkdtemp, readFile, readlink, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {promisify} from 'node:util'
import {stringify} from 'yaml'

import {Inventory} from '../../src/inventory/schema.js'
import {bareContext} from '../../src/render/context.js'
import {renderTarget} from '../../src/render/targets.js'
import {selfSignedPem} from '../support/certs.js'
import {BIN} from '../support/cli.js'
import {type HaproxyProcess, startHaproxy} from '../support/haproxy-process.js'
import {type LoopbackBackend, type SeenRequest, freePorts, startBackend} from '../support/loopback-backends.js'

const run = promisify(execFile)

/** A numeric id from the account database (`getent passwd|group NAME`). */
async function accountId(database: 'group' | 'passwd', name: string): Promise<number> {
  const {stdout} = await run('getent', [database, name])
  return Number(stdout.split(':')[2])
}

/**
 * HAProxy started as root from a config rendered with the Debian defaults (user and group
 * haproxy, chroot /var/lib/haproxy): the worker drops to them, and the admin socket is mode 660
 * with the group, so a member of the group who is not root can read `jproxy status`.
 */
describe('secure defaults on real HAProxy: unprivileged worker, admin socket for the group', function () {
  this.timeout(60_000)
  const seen: SeenRequest[] = []
  const backends: LoopbackBackend[] = []
  let dir: string
  let haproxy: HaproxyProcess | undefined
  let inventoryFile: string
  let socket: string
  /** Folders above the checkout that nobody could not pass through, with the mode to give back. */
  const opened: Array<{mode: number; path: string}> = []

  before(async function () {
    // Dropping privileges needs them: CI runs as root (it installs packages), so this test does too.
    if (process.getuid?.() !== 0) throw new Error('this test starts HAProxy as root so it can drop to the haproxy user: run it as root')
    dir = await mkdtemp(join(tmpdir(), 'jproxy-privileges-'))
    await chmod(dir, 0o755)
    // `nobody` runs BIN (bin/run.js) from this checkout: a clone under a private folder (mktemp -d is
    // 0700) needs passing through (o+x only, no listing), given back in after().
    for (let path = process.cwd(); path !== dirname(path); path = dirname(path)) {
      const {mode} = await stat(path)
      if ((mode & 0o001) === 0) {
        opened.push({mode: mode & 0o7777, path})
        await chmod(path, (mode & 0o7777) | 0o001)
      }
    }

    const pem = await selfSignedPem(dir, 'meet.example.org')
    await writeFile(join(dir, 'state'), '1\n')
    for (const name of ['web1', 'prosody1', 'jicofo1']) backends.push(await startBackend(name, seen))
    const [web, prosody, jicofo] = backends.map((b) => b.port)
    const [http, https, peerPort] = await freePorts(3)
    socket = join(dir, 'admin.sock')
    const data = {
      colibriWs: false,
      domain: 'meet.example.org',
      health: {fall: 1, interval: '1s', rise: 1, timeout: '500ms'},
      probe: {stateFile: join(dir, 'probe-state.json')},
      proxy: {listen: {httpPort: http, httpsPort: https, ipv4: '127.0.0.1'}, tls: {certificate: pem, key: pem}},
      shards: [{jicofo: {address: '127.0.0.1', port: jicofo}, name: 's1', prosody: {address: '127.0.0.1', port: prosody}}],
      // No user, group or chroot: the platform defaults apply.
      targets: {haproxy: {localPeerPort: peerPort, socket, stateFile: join(dir, 'state')}},
      web: [{address: '127.0.0.1', name: 'web1', port: web}],
    }
    inventoryFile = join(dir, 'jproxy.yaml')
    await writeFile(inventoryFile, stringify(data), {mode: 0o644})
    haproxy = await startHaproxy(renderTarget(Inventory.parse(data), 'haproxy', bareContext('debian')), dir, 'secure', socket)
  })

  after(async () => {
    await haproxy?.stop()
    for (const backend of backends) await backend.close()
    if (dir) await rm(dir, {force: true, recursive: true})
    for (const {mode, path} of opened) await chmod(path, mode)
  })

  it('runs the worker as haproxy inside /var/lib/haproxy', async () => {
    const children = (await readFile(`/proc/${haproxy!.pid}/task/${haproxy!.pid}/children`, 'utf8')).trim().split(/\s+/)
    expect(children).to.have.length(1)
    const status = await readFile(`/proc/${children[0]}/status`, 'utf8')
    const haproxyUid = await accountId('passwd', 'haproxy')
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).to.equal(String(haproxyUid))
    expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).to.equal(String(await accountId('group', 'haproxy')))
    expect(await readlink(`/proc/${children[0]}/root`)).to.equal('/var/lib/haproxy')
  })

  it('makes the admin socket mode 660, group haproxy', async () => {
    const info = await stat(socket)
    expect(info.mode & 0o777).to.equal(0o660)
    expect(info.gid).to.equal(await accountId('group', 'haproxy'))
  })

  it('lets a non-root member of the group read `jproxy status`, and refuses one outside it', async () => {
    const gid = await accountId('group', 'haproxy')
    const status = (groups: string) =>
      run('setpriv', ['--reuid=nobody', '--regid=nogroup', `--groups=${groups}`, process.execPath, BIN, 'status', 'haproxy', '-i', inventoryFile, '--json'], {env: {...process.env, HOME: dir}})
        .then(({stdout}) => JSON.parse(stdout))
        .catch((error: {stderr?: string; stdout?: string}) => {
          if (!error.stdout) throw new Error(`jproxy status as nobody: ${error.stderr}`)
          return JSON.parse(error.stdout)
        })
    const member = await status(String(gid))
    expect(member.warnings.join(' ')).to.not.match(/stats socket/)
    expect(member.rows.find((r: {key: string}) => r.key === 'web/web1')?.proxy).to.match(/UP/)
    const outsider = await status(String(await accountId('group', 'nogroup')))
    expect(outsider.warnings.join(' ')).to.match(/stats socket.*(EACCES|permission denied)/i)
  })
})
