import {expect} from 'chai'
import {readFile} from 'node:fs/promises'

import {configBinds, reloadReasons} from '../../src/haproxy/binds.js'
import {parseHaproxyCheck} from '../../src/haproxy/check.js'
import {parseShowInfo, parseShowProc, parseShowStat} from '../../src/haproxy/runtime.js'

describe('HAProxy output parsers (as HAProxy 2.6 prints them)', () => {
  it('haproxy -c: level, file, line and message of each alert and warning', () => {
    const output = [
      '[NOTICE]   (12499) : haproxy version is 2.6.12-1+deb12u4',
      "[ALERT]    (12499) : config : parsing [/etc/haproxy/haproxy.cfg:2] : unknown keyword 'bogus' in 'global' section",
      "[WARNING]  (12499) : config : parsing [/etc/haproxy/haproxy.cfg:40] : 'option httplog' not usable with proxy 'x' (needs 'mode http').",
      '[ALERT]    (12499) : config : Fatal errors found in configuration.',
    ].join('\n')
    expect(parseHaproxyCheck(output)).to.deep.equal([
      {level: 'notice', message: 'haproxy version is 2.6.12-1+deb12u4'},
      {file: '/etc/haproxy/haproxy.cfg', level: 'alert', line: 2, message: "unknown keyword 'bogus' in 'global' section"},
      {file: '/etc/haproxy/haproxy.cfg', level: 'warning', line: 40, message: "'option httplog' not usable with proxy 'x' (needs 'mode http')."},
      {level: 'alert', message: 'Fatal errors found in configuration.'},
    ])
  })

  it('show proc: master with reload and failed counts, current and older workers', () => {
    const text = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
      '11923           master          3 [failed: 1]   0d00h20m27s     2.6.12-1+deb12u4',
      '# workers',
      '12034           worker          1               0d00h00m15s     2.6.12-1+deb12u4',
      '12190           worker          0               0d00h00m01s     2.6.12-1+deb12u4',
      '# programs',
      '',
    ].join('\n')
    expect(parseShowProc(text)).to.deep.equal({master: {failed: 1, pid: 11923, reloads: 3}, workers: [{pid: 12190, reloads: 0}, {pid: 12034, reloads: 1}]})
    expect(() => parseShowProc('Unknown command.\n')).to.throw('not a "show proc" answer')
  })

  it('show info and show stat', () => {
    expect(parseShowInfo('Name: HAProxy\nPid: 4242\nUptime_sec: 7\n')).to.deep.include({Name: 'HAProxy', Pid: '4242'})
    const stat = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status\n' +
      'be_web,web1,0,0,2,5,,9,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5,0,,1,3,1,,9,,2,0,,2,L7OK\n' +
      'be_web,BACKEND,0,0,2,5,,9,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,5,0,,1,3,0,,9,,1,0,,2,\n'
    expect(parseShowStat(stat)).to.deep.equal([
      {checkStatus: 'L7OK', proxy: 'be_web', server: 'web1', sessions: 2, status: 'UP'},
      {checkStatus: '', proxy: 'be_web', server: 'BACKEND', sessions: 2, status: 'UP'},
    ])
  })

  it('configBinds: bind lines (TLS marked) and the local peer; reloadReasons: HAProxy 2.7+\'s reload answer in plain words first', async () => {
    const golden = await readFile('test/fixtures/golden/two-shards.haproxy.cfg', 'utf8')
    expect(configBinds(golden, 'proxy-b')).to.deep.equal([
      {address: '10.10.0.3', port: 10_000, ssl: false},
      {address: '192.0.2.10', port: 80, ssl: false},
      {address: '2001:db8:10::10', port: 80, ssl: false},
      {address: '192.0.2.10', port: 443, ssl: true},
      {address: '2001:db8:10::10', port: 443, ssl: true},
    ])
    const answer = [
      'Success=0',
      '--',
      '[NOTICE]   (1) : haproxy version is 2.8.3',
      '[ALERT]    (1) : Binding [/etc/haproxy/haproxy.cfg:62] for frontend fe_https: cannot bind socket (Address already in use) for [127.0.0.10:8443]',
      '[ALERT]    (1) : [haproxy.main()] Some protocols failed to start their listeners! Exiting.',
    ].join('\n')
    expect(reloadReasons(answer)).to.deep.equal(['port 8443 on 127.0.0.10 is in use by another process (HAProxy: cannot bind socket (Address already in use) for [127.0.0.10:8443])'])
  })
})
