import {expect} from 'chai'
import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

import {
  checkDocsFile,
  checkDocsValues,
  docsValueFiles,
  INVENTORY,
  TEXTFILE,
  unattendedCommands,
} from '../support/docs-values.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('one set of values across README.md, docs/ and contrib/', () => {
  const MUST = `unattended without -i ${INVENTORY}`

  it('one inventory path, one textfile folder per platform, -i in every unattended jproxy run', async () => {
    const files = await docsValueFiles(ROOT)
    expect(files).to.include.members([
      'README.md',
      'docs/probing.md',
      'docs/tls.md',
      'contrib/openbsd/crontab',
      'contrib/rc.d/jproxy_probe',
      'contrib/systemd/jproxy-probe.service',
    ])
    const problems = (await Promise.all(files.map((file) => checkDocsFile(ROOT, file)))).flat()
    expect(problems).to.deep.equal([])
  })

  it('checks the cron lines and unit commands it should, not none', async () => {
    const seen = async (file: string) =>
      unattendedCommands(file, await readFile(`${ROOT}/${file}`, 'utf8')).map((c) => c.command)
    const watcher = [`/usr/local/bin/jproxy probe --watch -i ${INVENTORY}`]
    expect(await seen('README.md')).to.have.length(1)
    expect((await seen('docs/tls.md'))[0]).to.match(/^\/usr\/local\/bin\/jproxy validate tls -i /)
    expect((await seen('docs/probing.md'))[0]).to.match(/^\/usr\/local\/bin\/jproxy probe -q -i /)
    expect(await seen('docs/apply.md')).to.have.length(1)
    expect(await seen('contrib/openbsd/crontab')).to.have.length(3)
    expect(await seen('contrib/rc.d/jproxy_probe')).to.deep.equal(watcher)
    expect(await seen('contrib/systemd/jproxy-probe.service')).to.deep.equal(watcher)
    expect(await seen('contrib/systemd/jproxy-check-tls.service')).to.have.length(1)
    const agent = [`/usr/local/bin/jproxy fleet agent -i ${INVENTORY} --name $(hostname)`]
    expect(await seen('contrib/rc.d/jproxy_fleet_agent')).to.deep.equal(agent)
    expect(await seen('contrib/systemd/jproxy-fleet-agent.service')).to.deep.equal([`/usr/local/bin/jproxy fleet agent -i ${INVENTORY} --name %H`])
    const announce = `/usr/local/bin/jproxy jvb announce -i ${INVENTORY}`
    expect(await seen('contrib/rc.d/jproxy_jvb_announce')).to.deep.equal([`${announce} --shard SHARD --id ID --address ADDRESS`])
    expect(await seen('contrib/systemd/jproxy-jvb-announce.service')).to.deep.equal([
      `${announce} --shard \${JVB_SHARD} --id \${JVB_ID} --address \${JVB_ADDRESS}`,
    ])
  })

  describe('fails when one value drifts', () => {
    it('another inventory path, wherever it is named', () => {
      const page = 'Run `jproxy probe -i /etc/jproxy.yaml`.\nKeep /usr/local/etc/jproxy.yaml safe.'
      expect(checkDocsValues('docs/x.md', page)).to.deep.equal([
        'docs/x.md:1: inventory /etc/jproxy.yaml, not /etc/jproxy/jproxy.yaml',
        'docs/x.md:2: inventory /usr/local/etc/jproxy.yaml, not /etc/jproxy/jproxy.yaml',
      ])
      const unit = 'Environment=JPROXY_INVENTORY=/etc/proxy/inv.yml'
      expect(checkDocsValues('contrib/systemd/x.service', unit)).to.deep.equal([
        'contrib/systemd/x.service:1: inventory /etc/proxy/inv.yml, not /etc/jproxy/jproxy.yaml',
      ])
      const fine = `jproxy validate config -i ./jproxy.yaml; jproxy apply --inventory=${INVENTORY}`
      expect(checkDocsValues('docs/x.md', fine)).to.deep.equal([])
    })

    it('another textfile folder, or the other platform one', () => {
      const other = 'jproxy probe --prom-file /var/lib/node_exporter/textfile/jproxy.prom'
      expect(checkDocsValues('docs/x.md', other)).to.deep.equal([
        `docs/x.md:1: textfile folder /var/lib/node_exporter/textfile, not ${TEXTFILE.debian}`,
      ])
      expect(checkDocsValues('docs/x.md', 'jproxy probe --prom-file /tmp/jproxy.prom')).to.deep.equal([
        `docs/x.md:1: textfile folder /tmp, not ${TEXTFILE.debian}`,
      ])
      expect(checkDocsValues('docs/x.md', `point it at ${TEXTFILE.openbsd}`)).to.deep.equal([
        `docs/x.md:1: textfile folder ${TEXTFILE.openbsd}, not ${TEXTFILE.debian}`,
      ])
      expect(checkDocsValues('contrib/openbsd/crontab', `--prom-file ${TEXTFILE.debian}/jproxy.prom`)).to.deep.equal([
        `contrib/openbsd/crontab:1: textfile folder ${TEXTFILE.debian}, not ${TEXTFILE.openbsd}`,
      ])
      const both = `Debian: ${TEXTFILE.debian}; OpenBSD: ${TEXTFILE.openbsd}`
      expect(checkDocsValues('docs/metrics.md', both)).to.deep.equal([])
    })

    it('a cron line or unit command that runs jproxy without -i', () => {
      const page = [
        '```',
        '17 6 * * * /usr/local/bin/jproxy validate tls --format nagios >/dev/null ||' +
          ` /usr/local/bin/jproxy validate tls -i ${INVENTORY}`,
        '```',
        'or by hand: `*/10 * * * * jproxy apply -q`, and `17 6 * * * jproxy lint relayd /etc/relayd.conf` needs none.',
        'In /etc/crontab: `* * * * * root /usr/local/bin/jproxy probe -q`.',
      ].join('\n')
      expect(checkDocsValues('docs/x.md', page)).to.deep.equal([
        `docs/x.md:2: runs "/usr/local/bin/jproxy validate tls --format nagios >/dev/null" ${MUST}`,
        `docs/x.md:4: runs "jproxy apply -q" ${MUST}`,
        `docs/x.md:5: runs "/usr/local/bin/jproxy probe -q" ${MUST}`,
      ])
      const unit = `Environment=JPROXY_INVENTORY=${INVENTORY}\nExecStart=/usr/bin/env jproxy probe --watch`
      expect(checkDocsValues('contrib/systemd/x.service', unit)).to.deep.equal([
        `contrib/systemd/x.service:2: runs "jproxy probe --watch" ${MUST}`,
      ])
      expect(checkDocsValues('contrib/rc.d/x', 'daemon_flags="/usr/local/bin/jproxy probe --watch"')).to.deep.equal([
        `contrib/rc.d/x:1: runs "/usr/local/bin/jproxy probe --watch" ${MUST}`,
      ])
    })
  })
})
