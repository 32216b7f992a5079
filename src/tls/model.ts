import type {Finding} from '../findings/finding.js'
import type {CertificateSummary} from './certificate.js'

/** One TLS verdict, naming the file or `address:port` it is about. */
export interface TlsFinding extends Finding {
  source: string
}

/** One certificate as a file holds it or a server presented it (position 1 = the server's own). */
export interface CertificateReport extends CertificateSummary {
  position: number
  source: string
}
