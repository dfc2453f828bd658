package dev.troupe.core.internal;

import static dev.troupe.core.Preconditions.requirePositive;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * INTERNAL API. Troupe's own settings of the production TLS engine, {@code troupe.security.tls}
 * (the store paths and passwords are read by Pekko's engine from {@code
 * pekko.remote.artery.ssl.config-ssl-engine}; the peer pattern by {@link PeerNames}).
 *
 * @param reloadInterval {@code troupe.security.tls.reload-interval}
 */
public record TlsSettings(Duration reloadInterval) {
  static final String RELOAD_INTERVAL = "troupe.security.tls.reload-interval";

  /** Validates; the message names the key. */
  public TlsSettings {
    requirePositive(reloadInterval, RELOAD_INTERVAL);
  }

  /**
   * Reads {@code troupe.security.tls} of {@code config} (the whole configuration).
   *
   * @throws IllegalArgumentException naming the key when a value is missing, not a duration or not
   *     positive
   */
  public static TlsSettings fromConfig(Config config) {
    Duration reloadInterval;
    try {
      reloadInterval = config.getDuration(RELOAD_INTERVAL);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(
          RELOAD_INTERVAL + " must be a duration such as 10s: " + e.getMessage(), e);
    }
    return new TlsSettings(reloadInterval);
  }
}
