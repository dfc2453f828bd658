package dev.troupe.core.internal;

import com.typesafe.config.Config;
import dev.troupe.core.AccessToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. The settings a Troupe node refuses to start with, checked on the resolved
 * configuration before the actor system is created. Each refusal names the setting.
 */
public final class StartupChecks {
  private static final Logger log = LoggerFactory.getLogger(StartupChecks.class);
  private static final Set<String> PEER_CHECKING_PROVIDERS =
      Set.of(
          PeerCheckingSslEngineProvider.class.getName(),
          "org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider");

  private StartupChecks() {}

  /**
   * Checks {@code config} for a node that joins others ({@code multiNode}) or only itself.
   *
   * @throws IllegalArgumentException naming the first setting that is not acceptable
   */
  public static void check(Config config, boolean multiNode) {
    // A bad namespace fails here, naming the setting, not at the first table a module touches.
    dev.troupe.core.storage.Namespaces.of(config);
    NodeHealth.storageMode(config.getString("troupe.core.health.storage"));
    if (config.getString("pekko.cluster.downing-provider-class").isBlank()) {
      refuse(
          "pekko.cluster.downing-provider-class is empty: a crashed node would never be removed"
              + " and its singletons, shards and daemons would never move. Keep Troupe's default"
              + " (org.apache.pekko.cluster.sbr.SplitBrainResolverProvider) or name another"
              + " downing provider");
    }
    if (config.getBoolean("pekko.actor.allow-java-serialization")) {
      refuse(
          "pekko.actor.allow-java-serialization is on: Java serialization lets a remote peer"
              + " instantiate arbitrary classes. Turn it off; Troupe's messages are Jackson"
              + " (TroupeSerializable)");
    }
    boolean production = config.getString("troupe.profile").equals("production");
    String url = config.getString("troupe.storage.url");
    if (multiNode && isPrivateH2(url)) {
      String message =
          "troupe.storage.url ["
              + url
              + "] is a private H2 database, but this node joins a cluster: a key's state must"
              + " survive its worker moving to another node, so every node must use one database."
              + " On one machine use jdbc:h2:file:<path>;AUTO_SERVER=TRUE on every node; across"
              + " machines use PostgreSQL";
      if (production) {
        refuse(message);
      } else {
        log.warn("{} (refused under troupe.profile = production)", message);
      }
    }
    if (production) {
      checkSecrets(config);
      checkTls(config);
      checkStorageTls(url);
    } else {
      warnPlaintextRemoting(config);
    }
  }

  /** Troupe's placeholder password, the default of every store password setting. */
  static final String PLACEHOLDER_PASSWORD = "changeit";

  /**
   * Production: no placeholder or empty store password, and a key store (the node's private key)
   * that no one but its owner can read.
   */
  private static void checkSecrets(Config config) {
    for (String setting : List.of("key-store-password", "key-password", "trust-store-password")) {
      String path = "troupe.security.tls." + setting;
      String value = config.getString(path);
      if (value.isEmpty() || value.equals(PLACEHOLDER_PASSWORD)) {
        refuse(
            path
                + " is "
                + (value.isEmpty() ? "empty" : "the placeholder [" + PLACEHOLDER_PASSWORD + "]")
                + ": troupe.profile = production needs a real password (e.g. from the environment:"
                + " TROUPE_KEY_STORE_PASSWORD, TROUPE_TRUST_STORE_PASSWORD)");
      }
    }
    Path keyStore = Path.of(config.getString("troupe.security.tls.key-store"));
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(keyStore);
      if (mode.contains(PosixFilePermission.OTHERS_READ)
          || mode.contains(PosixFilePermission.GROUP_WRITE)
          || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
        refuse(
            "troupe.security.tls.key-store ["
                + keyStore
                + "] holds the node's private key but is "
                + PosixFilePermissions.toString(mode)
                + ": troupe.profile = production needs it readable by its owner (and group) only,"
                + " e.g. chmod 600");
      }
    } catch (UnsupportedOperationException | java.io.IOException e) {
      // No POSIX permissions here (or the file is missing: PeerNames names that); nothing to check.
    }
    boolean management =
        config.getBoolean("troupe.core.management.enabled")
            || config.getBoolean("troupe.core.bootstrap.enabled");
    if (management) {
      checkAccessToken(config.getString(AccessToken.SETTING), "Pekko Management's endpoints");
    }
  }

  /**
   * Production: an operator token of at least {@link AccessToken#MIN_LENGTH} characters guards
   * {@code what}.
   *
   * @throws IllegalArgumentException naming {@code troupe.security.access-token} otherwise
   */
  public static void checkAccessToken(String token, String what) {
    if (token.length() < AccessToken.MIN_LENGTH) {
      refuse(
          AccessToken.SETTING
              + (token.isEmpty()
                  ? " is empty"
                  : " is "
                      + token.length()
                      + " characters long (at least "
                      + AccessToken.MIN_LENGTH
                      + ")")
              + ": troupe.profile = production guards "
              + what
              + " (all but the health checks) with it; set it, e.g. from the environment:"
              + " TROUPE_ACCESS_TOKEN");
    }
  }

  /**
   * Production: a PostgreSQL URL must ask for TLS (sslmode require, verify-ca or verify-full).
   *
   * @throws IllegalArgumentException naming {@code troupe.storage.url} otherwise
   */
  public static void checkStorageTls(String url) {
    if (!url.startsWith("jdbc:postgresql:")) {
      return;
    }
    String sslmode = null;
    int query = url.indexOf('?');
    if (query >= 0) {
      for (String parameter : url.substring(query + 1).split("&")) {
        int eq = parameter.indexOf('=');
        if (eq > 0 && parameter.substring(0, eq).equalsIgnoreCase("sslmode")) {
          sslmode = parameter.substring(eq + 1).toLowerCase(Locale.ROOT);
        }
      }
    }
    if (sslmode == null || !Set.of("require", "verify-ca", "verify-full").contains(sslmode)) {
      refuse(
          "troupe.storage.url ["
              + dev.troupe.core.storage.Storage.redact(url)
              + "] does not require TLS"
              + (sslmode == null ? "" : " (sslmode=" + sslmode + ")")
              + ": troupe.profile = production needs sslmode=require, verify-ca or verify-full"
              + " (verify-full checks the server's name against its certificate)");
    }
  }

  /** Development: a warning when remoting listens beyond loopback in plaintext. */
  private static void warnPlaintextRemoting(Config config) {
    if (config.getString("pekko.remote.artery.transport").equals("tls-tcp")) {
      return;
    }
    String canonical = config.getString("pekko.remote.artery.canonical.hostname");
    String bind = config.getString("pekko.remote.artery.bind.hostname");
    String listens = bind.isEmpty() ? canonical : bind;
    if (!isLoopback(listens)) {
      log.warn(
          "Remoting listens on [{}] without TLS (troupe.profile = development): any host that"
              + " reaches this port can join the cluster and send its actors messages. Use"
              + " troupe.profile = production (TLS with a peer name check) beyond loopback",
          listens);
    }
  }

  /** Whether {@code host} names this machine's loopback interface only. */
  static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost")
        || h.startsWith("127.")
        || h.equals("::1")
        || h.equals("[::1]")
        || h.equals("0:0:0:0:0:0:0:1");
  }

  private static void checkTls(Config config) {
    String transport = config.getString("pekko.remote.artery.transport");
    if (!transport.equals("tls-tcp")) {
      refuse(
          "pekko.remote.artery.transport is ["
              + transport
              + "], troupe.profile = production needs tls-tcp");
    }
    String provider = config.getString("pekko.remote.artery.ssl.ssl-engine-provider");
    if (!PEER_CHECKING_PROVIDERS.contains(provider)) {
      refuse(
          "pekko.remote.artery.ssl.ssl-engine-provider is ["
              + provider
              + "], which admits any certificate of a trusted CA; troupe.profile = production"
              + " needs one that checks the peer's name: "
              + PEER_CHECKING_PROVIDERS);
    }
    if (provider.equals(PeerCheckingSslEngineProvider.class.getName())) {
      if (!config.getBoolean(
          "pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication")) {
        refuse(
            "pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication is off:"
                + " troupe.profile = production needs both sides to present a certificate");
      }
      String protocol = config.getString("pekko.remote.artery.ssl.config-ssl-engine.protocol");
      if (!protocol.equals("TLSv1.3")) {
        refuse(
            "pekko.remote.artery.ssl.config-ssl-engine.protocol is ["
                + protocol
                + "], troupe.profile = production needs TLSv1.3");
      }
      PeerNames.pattern(config); // the key store is readable and a peer pattern exists
      TlsSettings.fromConfig(config); // troupe.security.tls.reload-interval is positive
    }
  }

  /**
   * Whether {@code url} names an H2 database that only this process can use: in memory, or a file
   * opened without {@code AUTO_SERVER=TRUE}. {@code jdbc:h2:tcp:} and {@code jdbc:h2:ssl:} are
   * servers, shared.
   */
  public static boolean isPrivateH2(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    if (!lower.startsWith("jdbc:h2:")
        || lower.startsWith("jdbc:h2:tcp:")
        || lower.startsWith("jdbc:h2:ssl:")) {
      return false;
    }
    return lower.startsWith("jdbc:h2:mem:") || !lower.replace(" ", "").contains("auto_server=true");
  }

  private static void refuse(String reason) {
    throw new IllegalArgumentException("Troupe refuses to start: " + reason);
  }
}
