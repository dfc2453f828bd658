package dev.troupe.sharding.internal;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * INTERNAL API. The settings of a {@link dev.troupe.sharding.ReadCache}: {@code
 * troupe.sharding.cache} in configuration, or the arguments of {@code ReadCache.create}.
 *
 * @param ttl how long an entry stays after it was loaded or written
 * @param maximumSize the most entries the cache holds
 */
public record CacheSettings(Duration ttl, long maximumSize) {
  /** The configuration section. */
  public static final String PATH = "troupe.sharding.cache";

  /**
   * Validates.
   *
   * @throws IllegalArgumentException if {@code ttl} is null or not positive, or {@code maximumSize}
   *     not positive
   */
  public CacheSettings {
    requirePositive(ttl, "ReadCache ttl");
    requireArgument(maximumSize > 0, "ReadCache maximumSize must be > 0, got: " + maximumSize);
  }

  /**
   * The settings under {@code troupe.sharding.cache} of {@code config} (a whole configuration).
   *
   * @throws IllegalArgumentException if a key is missing, has the wrong type or an invalid value;
   *     the message names the key
   */
  public static CacheSettings fromConfig(Config config) {
    requireNonNull(config, "config");
    Duration ttl;
    long maximumSize;
    try {
      ttl = config.getDuration(PATH + ".ttl");
      maximumSize = config.getLong(PATH + ".maximum-size");
    } catch (com.typesafe.config.ConfigException e) {
      throw new IllegalArgumentException("Invalid " + PATH + ": " + e.getMessage(), e);
    }
    requireArgument(!ttl.isZero() && !ttl.isNegative(), PATH + ".ttl must be > 0, got: " + ttl);
    requireArgument(maximumSize > 0, PATH + ".maximum-size must be > 0, got: " + maximumSize);
    return new CacheSettings(ttl, maximumSize);
  }
}
