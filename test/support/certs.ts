import {execFile} from 'node:child_process'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)

/**
 * Makes a self-signed certificate for `name` with the real openssl CLI and returns a PEM holding
 * certificate and key (what HAProxy's `crt` loads). A missing openssl fails the calling test.
 */
export async function selfSignedPem(dir: string, name: string): Promise<string> {
  const key = join(dir, `${name}.key.pem`)
  const cert = join(dir, `${name}.cert.pem`)
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-days', '2']).catch(
    (error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new Error('openssl not found: install the Debian package openssl') : error
    },
  )
  const pem = join(dir, `${name}.pem`)
  await writeFile(pem, (await readFile(cert, 'utf8')) + (await readFile(key, 'utf8')))
  return pem
}
