package dev.troupe.core.internal;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * INTERNAL API. Pekko's key-store based TLS engine plus the check Pekko's leaves out: after every
 * handshake, in both directions, the peer's certificate must carry a name matching {@link
 * PeerNames#pattern}. Pekko's {@code ConfigSSLEngineProvider} admits any certificate signed by a
 * trusted CA, whatever its subject.
 *
 * <p>Configured by {@code troupe.profile = production} as {@code
 * pekko.remote.artery.ssl.ssl-engine-provider}.
 */
public final class PeerCheckingSslEngineProvider extends ConfigSSLEngineProvider {
  private static final Logger log = LoggerFactory.getLogger(PeerCheckingSslEngineProvider.class);
  private static final AtomicLong refused = new AtomicLong();

  private final Pattern peers;

  public PeerCheckingSslEngineProvider(ActorSystem system) {
    super(system);
    this.peers = PeerNames.pattern(system.settings().config());
  }

  /** How many handshakes providers in this JVM refused for a peer's certificate names. */
  public static long refusedHandshakes() {
    return refused.get();
  }

  @Override
  public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
    return verify("server", hostname, session);
  }

  @Override
  public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
    return verify("client", hostname, session);
  }

  private Option<Throwable> verify(String role, String hostname, SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      refused.incrementAndGet();
      return Option.apply(e);
    }
    if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
      if (PeerNames.admits(peers, leaf)) {
        return Option.empty();
      }
      refused.incrementAndGet();
      String message =
          "Refused the TLS "
              + role
              + " at ["
              + hostname
              + "]: its certificate ["
              + leaf.getSubjectX500Principal().getName()
              + "] names "
              + PeerNames.names(leaf)
              + ", none matches "
              + PeerNames.PATTERN_SETTING
              + " ["
              + peers.pattern()
              + "]";
      log.warn(message);
      return Option.apply(new SSLPeerUnverifiedException(message));
    }
    refused.incrementAndGet();
    return Option.apply(new SSLPeerUnverifiedException("The TLS peer sent no X.509 certificate"));
  }
}
