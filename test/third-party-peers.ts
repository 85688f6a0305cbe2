/**
 * Some tests need a peer we did not write, installed from Debian packages (sipp, GStreamer's RTSP server,
 * mount namespaces for a full-disk tmpfs). On a developer's fresh machine they may be absent: the test is
 * skipped with a loud line saying how to get the peer. CI sets STREETEYE_REQUIRE_PEERS=1 (.ci/run), and then
 * a missing peer fails the file instead, so a green CI run never hides a skipped peer test.
 */
export function thirdPartyPeer(name: string, available: boolean, howToGet: string): boolean {
  if (available) return true;
  const line = `${name} is not available here: ${howToGet}`;
  if (process.env.STREETEYE_REQUIRE_PEERS === '1') {
    throw new Error(`${line} (STREETEYE_REQUIRE_PEERS=1: third-party peer tests must run)`);
  }
  console.warn(`\n*** SKIPPED: ${line} ***\n`);
  return false;
}
