package dev.troupe.core.lock;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requirePositive;
import static dev.troupe.core.Preconditions.requireRange;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.storage.Namespaces;
import java.time.Duration;

/**
 * The settings of the JDBC lock registries, {@code troupe.lock} in {@code reference.conf}: what
 * {@link JdbcLockRegistry#create(dev.troupe.core.storage.Storage, String, LockSettings)} takes for
 * a registry with other settings than the node's.
 *
 * @param namespace {@code troupe.lock.namespace}
 * @param heartbeatInterval {@code troupe.lock.heartbeat-interval}
 * @param heartbeatTimeout {@code troupe.lock.heartbeat-timeout}
 * @param retryInterval {@code troupe.lock.retry-interval}
 * @param keepaliveIdle {@code troupe.lock.server-keepalive.idle}
 * @param keepaliveInterval {@code troupe.lock.server-keepalive.interval}
 * @param keepaliveCount {@code troupe.lock.server-keepalive.count}
 * @param idleConnections {@code troupe.lock.idle-connections}
 * @param leaseDuration {@code troupe.lock.lease-duration}
 */
public record LockSettings(
    String namespace,
    Duration heartbeatInterval,
    Duration heartbeatTimeout,
    Duration retryInterval,
    Duration keepaliveIdle,
    Duration keepaliveInterval,
    int keepaliveCount,
    int idleConnections,
    Duration leaseDuration) {

  /** Validates; every message names the key and the value. */
  public LockSettings {
    Namespaces.requireValid(namespace, "troupe.lock.namespace");
    requirePositive(heartbeatInterval, "troupe.lock.heartbeat-interval");
    requirePositive(heartbeatTimeout, "troupe.lock.heartbeat-timeout");
    requirePositive(retryInterval, "troupe.lock.retry-interval");
    requirePositive(keepaliveIdle, "troupe.lock.server-keepalive.idle");
    requirePositive(keepaliveInterval, "troupe.lock.server-keepalive.interval");
    requireRange(keepaliveCount, 1, 100, "troupe.lock.server-keepalive.count");
    requireRange(idleConnections, 0, 1000, "troupe.lock.idle-connections");
    requirePositive(leaseDuration, "troupe.lock.lease-duration");
    requireArgument(
        heartbeatTimeout.toMillis() >= 1000,
        "troupe.lock.heartbeat-timeout must be at least 1s (the PostgreSQL driver's socket timeout"
            + " has a resolution of seconds), got: "
            + heartbeatTimeout);
    requireArgument(
        heartbeatInterval
                .plus(heartbeatTimeout)
                .compareTo(serverRelease(keepaliveIdle, keepaliveInterval, keepaliveCount))
            < 0,
        "troupe.lock.heartbeat-interval + heartbeat-timeout ("
            + heartbeatInterval.plus(heartbeatTimeout)
            + ") must be shorter than the time the server needs to free a silent holder's lock,"
            + " troupe.lock.server-keepalive idle + interval * count ("
            + serverRelease(keepaliveIdle, keepaliveInterval, keepaliveCount)
            + ")");
    requireArgument(
        leaseDuration.compareTo(heartbeatInterval.plus(heartbeatTimeout.multipliedBy(2))) > 0,
        "troupe.lock.lease-duration must exceed heartbeat-interval + 2 * heartbeat-timeout ("
            + heartbeatInterval.plus(heartbeatTimeout.multipliedBy(2))
            + "), got: "
            + leaseDuration);
  }

  /** The defaults of core's reference.conf. */
  public static LockSettings defaults() {
    return fromConfig(ConfigFactory.defaultReference());
  }

  /** Reads {@code troupe.lock} of {@code config} (the whole configuration). */
  public static LockSettings fromConfig(Config config) {
    Config c =
        config
            .getConfig("troupe.lock")
            .withFallback(ConfigFactory.defaultReference().getConfig("troupe.lock"));
    return new LockSettings(
        c.getString("namespace"),
        c.getDuration("heartbeat-interval"),
        c.getDuration("heartbeat-timeout"),
        c.getDuration("retry-interval"),
        c.getDuration("server-keepalive.idle"),
        c.getDuration("server-keepalive.interval"),
        c.getInt("server-keepalive.count"),
        c.getInt("idle-connections"),
        c.getDuration("lease-duration"));
  }

  /** A copy with another namespace. */
  public LockSettings withNamespace(String newNamespace) {
    return new LockSettings(
        newNamespace,
        heartbeatInterval,
        heartbeatTimeout,
        retryInterval,
        keepaliveIdle,
        keepaliveInterval,
        keepaliveCount,
        idleConnections,
        leaseDuration);
  }

  /** How long a holder may go without a good heartbeat before it stops believing it holds. */
  public Duration selfFenceAfter() {
    return heartbeatInterval.plus(heartbeatTimeout);
  }

  /** About how long the server needs to free the lock of a silent holder. */
  public Duration serverRelease() {
    return serverRelease(keepaliveIdle, keepaliveInterval, keepaliveCount);
  }

  private static Duration serverRelease(Duration idle, Duration interval, int count) {
    return idle.plus(interval.multipliedBy(count));
  }

  /** The name of {@code id} in the database tables: namespace, ':', id. */
  public String qualify(String id) {
    return namespace + ":" + id;
  }
}
