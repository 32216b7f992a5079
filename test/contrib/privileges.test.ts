import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {checkDoasConf} from '../support/doas-conf.js'

const run = promisify(execFile)
const SUDOERS = 'contrib/sudoers.d/jproxy'
const DOAS = 'contrib/doas.conf'

/** Debian's visudo, in /usr/sbin (not always on a non-root PATH); missing fails the test. */
function visudo(): string {
  const path = ['/usr/sbin/visudo', '/usr/bin/visudo'].find((p) => existsSync(p))
  if (!path) throw new Error('visudo not found: install the Debian package sudo')
  return path
}

async function visudoCheck(file: string): Promise<{code: number; output: string}> {
  try {
    const {stderr, stdout} = await run(visudo(), ['-cf', file])
    return {code: 0, output: stdout + stderr}
  } catch (error) {
    const failure = error as {code: number; stderr?: string; stdout?: string}
    return {code: failure.code, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}`}
  }
}

/** The argv after the program in each rule: what the rules let the group run as root. */
function doasCommands(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('permit'))
    .map((line) => line.split(' args ')[1].split(' '))
}

describe('contrib privilege examples', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-contrib-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it(`${SUDOERS} passes visudo -cf, and a broken copy does not (the check is real)`, async () => {
    const good = await visudoCheck(SUDOERS)
    expect(good.code, good.output).to.equal(0)
    expect(good.output).to.include('parsed OK')
    const broken = join(dir, 'sudoers-broken')
    await writeFile(broken, (await readFile(SUDOERS, 'utf8')).replace('NOPASSWD:', 'NOPASSWD'), {mode: 0o440})
    expect((await visudoCheck(broken)).code).to.not.equal(0)
  })

  it(`${DOAS} passes the doas.conf syntax check`, async () => {
    expect(checkDoasConf(await readFile(DOAS, 'utf8'))).to.deep.equal([])
  })

  it('the doas.conf check accepts what doas accepts and names the line of what it refuses', () => {
    expect(checkDoasConf('# comment\n\npermit persist keepenv setenv { PATH -HOME LANG=C } :wheel\ndeny bob as root cmd /bin/sh\npermit nolog alice as "root" cmd /bin/ls args -l \\\n  /tmp\n')).to.deep.equal([])
    expect(checkDoasConf('permit nopass persist :wheel\n')).to.deep.equal(["1: can't combine nopass and persist"])
    expect(checkDoasConf('permit nopass\n')).to.deep.equal(['1: a rule needs an identity (user or :group)'])
    expect(checkDoasConf('\npermit :wheel as\n')).to.deep.equal(['2: "as" needs a target user'])
    expect(checkDoasConf('permit :wheel args apply\n')).to.deep.equal(['1: unexpected "args"'])
    expect(checkDoasConf('allow :wheel\n')).to.deep.equal(['1: a rule starts with permit or deny, not "allow"'])
    expect(checkDoasConf('permit :wheel cmd "/bin/ls\n')).to.include('1: unterminated quotes')
    expect(checkDoasConf('deny nopass bob\n')).to.deep.equal(['1: a rule needs an identity (user or :group)'])
    expect(checkDoasConf('permit setenv { =x } bob\n')).to.deep.equal(['1: unexpected "=" in setenv'])
  })

  it('sudoers and doas.conf grant the same pinned commands, and jproxy knows every flag in them', async () => {
    const doas = doasCommands(await readFile(DOAS, 'utf8'))
    const sudoers = (await readFile(SUDOERS, 'utf8'))
      .split('\n')
      .filter((line) => line.includes('/usr/local/bin/jproxy '))
      .map((line) => line.replace(/^.*?\/usr\/local\/bin\/jproxy /, '').replace(/[,\\\s]+$/, '').split(' '))
    expect(sudoers).to.deep.equal(doas)
    const manifest = JSON.parse(await readFile('oclif.manifest.json', 'utf8'))
    for (const argv of doas) {
      const [command, ...rest] = argv
      // Every rule pins the inventory: whoever chooses the inventory chooses what runs as root.
      expect(rest.slice(0, 2)).to.deep.equal(['--inventory', '/etc/jproxy/jproxy.yaml'])
      for (const flag of rest.filter((word) => word.startsWith('--'))) expect(manifest.commands[command].flags, flag).to.have.property(flag.slice(2))
    }
  })
})
