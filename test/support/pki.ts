import {execFile} from 'node:child_process'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

const exec = promisify(execFile)

/** Runs the real openssl CLI; a missing openssl fails the calling test (it never skips). */
export async function openssl(args: string[], cwd?: string): Promise<string> {
  try {
    return (await exec('openssl', args, {cwd})).stdout
  } catch (error) {
    const e = error as NodeJS.ErrnoException & {stderr?: string}
    throw e.code === 'ENOENT' ? new Error('openssl not found: install the Debian package openssl') : new Error(`openssl ${args[0]}: ${e.stderr ?? e.message}`)
  }
}

/** A certificate and its key as files (PEM), and the PEM text of the certificate. */
export interface Issued {
  cert: string
  key: string
  pem: string
}

export interface LeafOptions {
  /** subjectAltName entries such as `DNS:meet.example.test`; none leaves the extension out. */
  altNames: string[]
  /** openssl `ca` dates, YYYYMMDDHHMMSSZ; by default from an hour ago for 90 days. */
  end?: string
  issuer?: Issued
  /** Key type for `openssl req -newkey`: `ec` (P-256, default) or `rsa:BITS`. */
  keyType?: string
  start?: string
}

const EXTENSIONS = `[leaf]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`

/** `openssl ca` dates: the only way OpenSSL 3.0 issues certificates valid in the past or the future. */
export function caDate(date: Date): string {
  return date.toISOString().replaceAll(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z').slice(2)
}

/**
 * A small PKI built with the openssl CLI in `dir`: a root, an intermediate it signed, and leaves
 * with any names, dates and key types. `openssl ca` keeps a database, so issue one at a time.
 */
export class TestPki {
  private count = 0
  private constructor(
    readonly dir: string,
    readonly root: Issued,
    readonly intermediate: Issued,
  ) {}

  static async create(dir: string, rootName = 'jproxy Test Root'): Promise<TestPki> {
    await mkdir(join(dir, 'newcerts'), {recursive: true})
    await writeFile(join(dir, 'index.txt'), '')
    await writeFile(join(dir, 'serial'), '1000\n')
    await writeFile(
      join(dir, 'ca.cnf'),
      `[ca]\ndefault_ca = test\n[test]\ndir = ${dir}\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/newcerts\nserial = $dir/serial\ndefault_md = sha256\npolicy = anything\nunique_subject = no\ndefault_days = 90\n[anything]\ncommonName = supplied\n`,
    )
    const root = await TestPki.request(dir, 'root', rootName, 'ec')
    await writeFile(join(dir, 'root.ext'), EXTENSIONS)
    await openssl(['ca', '-batch', '-config', join(dir, 'ca.cnf'), '-selfsign', '-keyfile', root.key, '-in', root.csr, '-out', root.cert, '-notext', '-extfile', join(dir, 'root.ext'), '-extensions', 'ca', '-days', '3650'])
    const rootIssued = await TestPki.issued(root)
    const pki = new TestPki(dir, rootIssued, rootIssued)
    const intermediate = await pki.sign('intermediate', 'jproxy Test Intermediate', {extensions: 'ca', issuer: rootIssued})
    return new TestPki(dir, rootIssued, intermediate)
  }

  /** A server certificate signed by the intermediate (or `issuer`). */
  async leaf(commonName: string, options: LeafOptions): Promise<Issued> {
    return this.sign(`leaf${++this.count}`, commonName, {...options, extensions: 'leaf'})
  }

  private async sign(file: string, commonName: string, options: Partial<LeafOptions> & {extensions: string}): Promise<Issued> {
    const request = await TestPki.request(this.dir, file, commonName, options.keyType ?? 'ec')
    const issuer = options.issuer ?? this.intermediate
    const now = Date.now()
    const dates = ['-startdate', options.start ?? caDate(new Date(now - 3_600_000)), '-enddate', options.end ?? caDate(new Date(now + 90 * 86_400_000))]
    const extfile = join(this.dir, `${file}.ext`)
    const altNames = options.altNames && options.altNames.length > 0 ? `[${options.extensions}]\nsubjectAltName = ${options.altNames.join(', ')}\n` : ''
    await writeFile(extfile, EXTENSIONS.replace(`[${options.extensions}]\n`, altNames || `[${options.extensions}]\n`))
    await openssl(['ca', '-batch', '-config', join(this.dir, 'ca.cnf'), '-cert', issuer.cert, '-keyfile', issuer.key, '-in', request.csr, '-out', request.cert, '-notext', '-extfile', extfile, '-extensions', options.extensions, ...dates])
    return TestPki.issued(request)
  }

  private static async request(dir: string, file: string, commonName: string, keyType: string) {
    const key = join(dir, `${file}.key`)
    const csr = join(dir, `${file}.csr`)
    const cert = join(dir, `${file}.crt`)
    const newkey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', keyType]
    await openssl(['req', '-new', ...newkey, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${commonName}`])
    return {cert, csr, key}
  }

  private static async issued({cert, key}: {cert: string; key: string}): Promise<Issued> {
    return {cert, key, pem: await readFile(cert, 'utf8')}
  }
}
