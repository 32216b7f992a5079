import {expect} from 'chai'

import {ExitCode} from '../../src/errors.js'
import {cliPayload, pendingTransactions} from '../../src/haproxy/ssl-cert.js'
import {deploySource} from '../../src/tls/deploy-source.js'

describe('tls deploy: where the new files come from', () => {
  it('flags win over any hook environment', () => {
    expect(deploySource({cert: '/a.pem', chain: '/c.pem', key: '/a.key'}, {LEGO_CERT_PATH: '/l.crt', RENEWED_LINEAGE: '/etc/letsencrypt/live/x'})).to.deep.equal({certificate: '/a.pem', chain: '/c.pem', from: 'flags', key: '/a.key'})
  })

  it('certbot: fullchain.pem and privkey.pem of RENEWED_LINEAGE, never cert.pem', () => {
    expect(deploySource({}, {RENEWED_LINEAGE: '/etc/letsencrypt/live/meet.example.org'})).to.deep.equal({
      certificate: '/etc/letsencrypt/live/meet.example.org/fullchain.pem',
      from: 'certbot',
      key: '/etc/letsencrypt/live/meet.example.org/privkey.pem',
    })
  })

  it('lego 4 (LEGO_CERT_PATH, LEGO_CERT_KEY_PATH) and lego 5 (LEGO_HOOK_*, preferred, with the issuer file)', () => {
    expect(deploySource({}, {LEGO_CERT_KEY_PATH: '/l/x.key', LEGO_CERT_PATH: '/l/x.crt'})).to.deep.equal({certificate: '/l/x.crt', chain: undefined, from: 'lego', key: '/l/x.key'})
    const v5 = {LEGO_CERT_KEY_PATH: '/old.key', LEGO_CERT_PATH: '/old.crt', LEGO_HOOK_CERT_KEY_PATH: '/l/x.key', LEGO_HOOK_CERT_PATH: '/l/x.crt', LEGO_HOOK_ISSUER_CERT_PATH: '/l/x.issuer.crt'}
    expect(deploySource({}, v5)).to.deep.equal({certificate: '/l/x.crt', chain: '/l/x.issuer.crt', from: 'lego', key: '/l/x.key'})
  })

  it('nothing to deploy, --key without --cert, or a lego certificate without its key: usage errors (exit 2) that say what is read', () => {
    for (const [flags, env, message] of [
      [{}, {}, /give --cert FILE --key FILE/],
      [{key: '/a.key'}, {}, /--key and --chain need --cert/],
      [{}, {LEGO_CERT_PATH: '/l.crt'}, /no key path/],
    ] as const) {
      expect(() => deploySource(flags, env)).to.throw(message).with.property('exitCode', ExitCode.usage)
    }
  })
})

describe('HAProxy certificate transactions: payload and pending transactions', () => {
  it('the payload has no empty line (the first one would end it) and no carriage return', () => {
    expect(cliPayload('-----BEGIN CERTIFICATE-----\r\nAAA\r\n-----END CERTIFICATE-----\r\n\r\n\n-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n\n')).to.equal(
      '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----',
    )
  })

  it('show ssl cert: the files under "# transaction" marked with *', () => {
    expect(pendingTransactions('# transaction\n*/etc/ssl/a.pem\n# filename\n/etc/ssl/a.pem\n/etc/ssl/b.pem\n\n')).to.deep.equal(['/etc/ssl/a.pem'])
    expect(pendingTransactions('# filename\n/etc/ssl/a.pem\n\n')).to.deep.equal([])
  })
})
