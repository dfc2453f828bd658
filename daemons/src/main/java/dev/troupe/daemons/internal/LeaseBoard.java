package dev.troupe.daemons.internal;

import java.util.concurrent.ConcurrentHashMap;

/**
 * INTERNAL API. The daemon leases this node holds and until when it trusts each one (by {@link
 * System#nanoTime()}): written only by the node's {@link DaemonHost}, read by any thread — the
 * daemons themselves ask it through {@code Daemons.holdsLease} before they act.
 */
public final class LeaseBoard {
  /** A held lease: the instance's epoch, when it was claimed and until when it is trusted. */
  public record Trust(long epoch, long claimedNanos, long untilNanos) {}

  private final ConcurrentHashMap<String, Trust> trusts = new ConcurrentHashMap<>();

  /** Records the lease of {@code name} just claimed for {@code epoch}. */
  void put(String name, long epoch, long claimedNanos, long untilNanos) {
    trusts.put(name, new Trust(epoch, claimedNanos, untilNanos));
  }

  /** The lease of {@code name}, or null. */
  Trust get(String name) {
    return trusts.get(name);
  }

  /** Trusts the lease of {@code name} until {@code untilNanos}, if that is later than now. */
  void extend(String name, long untilNanos) {
    trusts.computeIfPresent(
        name,
        (n, t) ->
            untilNanos - t.untilNanos() > 0
                ? new Trust(t.epoch(), t.claimedNanos(), untilNanos)
                : t);
  }

  /** Forgets the lease of {@code name}. */
  void remove(String name) {
    trusts.remove(name);
  }

  /**
   * Until when (nanoTime) the lease of {@code name} for {@code epoch} is trusted, or {@code
   * Long.MIN_VALUE} if this node does not hold it for that epoch.
   */
  public long trustedUntilNanos(String name, long epoch) {
    Trust t = trusts.get(name);
    return t == null || t.epoch() != epoch ? Long.MIN_VALUE : t.untilNanos();
  }

  /** Whether this node holds the lease of {@code name} for {@code epoch} and still trusts it. */
  public boolean holds(String name, long epoch) {
    long until = trustedUntilNanos(name, epoch);
    return until != Long.MIN_VALUE && System.nanoTime() - until < 0;
  }
}
