/** SSH for the standalone deploy: sessions to hosts (ssh2) and OpenSSH known_hosts handling. */
export { SshSession, shellQuote, type SshTarget, type ExecResult } from './ssh-session';
export {
  KnownHosts, appendKnownHost, entryMatches, expandHome, fingerprint, keyBlobType, knownHostName, parseKnownHosts,
  type KnownHostEntry, type KnownHostMarker, type KnownHostsLineError,
} from './known-hosts';
