package dev.troupe.sharding.internal;

/**
 * INTERNAL API. The pure rules of the fleets' single-writer fence (see {@link FleetFence}): when a
 * node may take a shard lease, and until when a node trusts its own fence lease.
 */
public final class FenceRules {
  /*
   * A node generation (owner) may run fleet workers only while it trusts its fence lease: a row of
   * troupe_fleet_node whose expiry the database's clock sets at each renewal. It trusts it until
   * the start of its last good renewal (by its own monotonic clock) plus lease-duration minus
   * safety-margin, which is before the row can expire. A shard lease (a row of troupe_fleet_shard)
   * names its owner generation; another generation may take it only once that owner cannot act
   * any more: it released the shard, or its fence lease is gone or expired by the database's clock.
   * A revoked lease (its node was removed from the cluster) cannot be renewed but is still waited
   * out: the owner may act until the trust of its last renewal runs out.
   */
  private FenceRules() {}

  /**
   * A shard lease as the database holds it.
   *
   * @param owner the owner generation
   * @param epoch the number of the holding
   * @param released whether the owner gave it up (its shard stopped)
   * @param ownerRemainingMillis how long the owner's fence lease still runs by the database's
   *     clock, or null if the owner has no fence lease row (it shut down)
   */
  public record ShardLease(String owner, long epoch, boolean released, Long ownerRemainingMillis) {}

  /**
   * What to do about a shard lease: take it, or ask again after {@code waitMillis}.
   *
   * @param take whether {@code me} may take the lease now
   * @param waitMillis when not, how long until the current owner's fence lease ends
   */
  public record Verdict(boolean take, long waitMillis) {
    static final Verdict TAKE = new Verdict(true, 0);
  }

  /** Whether generation {@code me} may take shard lease {@code current} (null: nobody had it). */
  public static Verdict judge(String me, ShardLease current) {
    if (current == null
        || current.owner().equals(me)
        || current.released()
        || current.ownerRemainingMillis() == null
        || current.ownerRemainingMillis() <= 0) {
      return Verdict.TAKE;
    }
    return new Verdict(false, current.ownerRemainingMillis());
  }

  /**
   * Until when (nanoTime) a generation trusts its fence lease after a good renewal that started at
   * {@code renewalStartNanos}.
   */
  public static long trustedUntil(long renewalStartNanos, long leaseNanos, long marginNanos) {
    return renewalStartNanos + leaseNanos - marginNanos;
  }

  /** Whether a trust that runs until {@code untilNanos} still holds at {@code nowNanos}. */
  public static boolean trusts(long untilNanos, long nowNanos) {
    return nowNanos - untilNanos < 0;
  }
}
