package dev.troupe.core.internal;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
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
 * <p>Unlike Pekko's engine, which reads its stores once, this one re-reads the key store and trust
 * store files when they change ({@link ReloadingSslContext}, at most once per {@code
 * troupe.security.tls.reload-interval}): new connections use the new key and trust, existing
 * connections keep theirs.
 *
 * <p>Configured by {@code troupe.profile = production} as {@code
 * pekko.remote.artery.ssl.ssl-engine-provider}.
 */
public final class PeerCheckingSslEngineProvider extends ConfigSSLEngineProvider {
  /*
   * The peer name pattern is fixed for the life of the node. When it is derived from this node's
   * own certificate (peer-name-pattern empty), a rotated key store is used only if its certificate
   * still matches that pattern: every peer derives the same pattern from its own certificate and
   * would refuse this node otherwise. Changing the cluster domain therefore needs a restart (or an
   * explicit peer-name-pattern that admits both domains while the certificates change).
   *
   * Engines are made here, not by Pekko's private createSSLEngine, because Pekko's context is a
   * private lazy val built once; the engine settings (protocol, cipher suites, mutual
   * authentication, hostname verification) are applied as Pekko applies them.
   */
  private static final Logger log = LoggerFactory.getLogger(PeerCheckingSslEngineProvider.class);
  private static final AtomicLong refused = new AtomicLong();

  private final Pattern peers;
  private final String[] cipherSuites;
  private final ReloadingSslContext contexts;

  public PeerCheckingSslEngineProvider(ActorSystem system) {
    super(system);
    Config all = system.settings().config();
    this.peers = PeerNames.pattern(all);
    this.cipherSuites = config().getStringList("enabled-algorithms").toArray(new String[0]);
    boolean derived = all.getString(PeerNames.PATTERN_SETTING).isEmpty();
    this.contexts =
        new ReloadingSslContext(
            new ReloadingSslContext.Stores(
                Path.of(SSLKeyStore()),
                SSLKeyStorePassword(),
                SSLKeyPassword(),
                Path.of(SSLTrustStore()),
                SSLTrustStorePassword()),
            SSLProtocol(),
            createSecureRandom(),
            TlsSettings.fromConfig(all).reloadInterval(),
            derived ? this::refusalOfOwn : own -> Optional.empty(),
            Clock.systemUTC());
  }

  /** How many handshakes providers in this JVM refused for a peer's certificate names. */
  public static long refusedHandshakes() {
    return refused.get();
  }

  @Override
  public SSLEngine createServerSSLEngine(String hostname, int port) {
    return createEngine(false, hostname, port);
  }

  @Override
  public SSLEngine createClientSSLEngine(String hostname, int port) {
    return createEngine(true, hostname, port);
  }

  private SSLEngine createEngine(boolean client, String hostname, int port) {
    SSLContext context = contexts.current();
    SSLEngine engine = context.createSSLEngine(hostname, port);
    if (client && HostnameVerification()) {
      SSLParameters parameters = context.getDefaultSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(parameters);
    }
    engine.setUseClientMode(client);
    engine.setEnabledCipherSuites(cipherSuites);
    engine.setEnabledProtocols(new String[] {SSLProtocol()});
    if (!client && SSLRequireMutualAuthentication()) {
      engine.setNeedClientAuth(true);
    }
    return engine;
  }

  private Optional<String> refusalOfOwn(X509Certificate own) {
    if (PeerNames.admits(peers, own)) {
      return Optional.empty();
    }
    return Optional.of(
        "the new certificate ["
            + own.getSubjectX500Principal().getName()
            + "] names "
            + PeerNames.names(own)
            + ", none matches the peer name pattern ["
            + peers.pattern()
            + "] derived from this node's certificate at start; peers would refuse it (changing"
            + " the cluster domain needs a restart or an explicit "
            + PeerNames.PATTERN_SETTING
            + ")");
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
