package dev.troupe.daemons.internal;

import dev.troupe.core.HashRing;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * INTERNAL API. The daemon leader's placement rules, pure: given what the leader knows of each
 * daemon (its status, node and epoch), the epochs issued in the database, the ring over the active
 * hosts and what the hosts report, which instance to adopt, which to stop, which daemon to place
 * anew and which to move. {@link DaemonLeader} is the actor around them: it does the I/O (epochs,
 * starts, stops, reports) and feeds the answers back.
 *
 * <p>The "never twice" rules: an instance older than the newest epoch issued for its name is never
 * adopted and always stopped (it is fenced); of two instances of one name the newer epoch wins; an
 * instance the leader does not know at its own epoch on its own node is a duplicate and is stopped.
 * The leases make two live instances impossible; these rules make the leader's view converge on the
 * one that holds the lease and stop the rest as soon as a node reports it.
 */
public final class Placement {
  private Placement() {}

  /** Where a daemon is in its life, as the leader sees it. */
  public enum Status {
    /** Should run; not placed (yet, or again). */
    UNPLACED,
    /** Its next epoch is being raised in the database. */
    RAISING,
    /** Its node was asked to start it at its epoch; no answer yet (or the lease was busy). */
    STARTING,
    /** Its node answered that it runs. */
    RUNNING,
    /** Its node was asked to stop it, to place it anew on its ring owner. */
    MOVING,
    /** It could not start (no such launcher on the node): retried at the next re-scan. */
    FAILED
  }

  /** What the leader knows of one daemon: status, node (null if none) and epoch (0 if none). */
  public record Known(Status status, String node, long epoch) {}

  /** What to do with an instance a node reports (or a host says it took over). */
  public enum Verdict {
    /** Take the instance as the daemon's: it runs there, at its epoch. */
    ADOPT,
    /** The placement the leader made: it runs now. */
    CONFIRM,
    /** Already known to run there: nothing to do. */
    KEEP,
    /**
     * Newer than the instance the leader knows: adopt it, and stop the known one if it runs (a host
     * took the daemon over while this leader was unreachable).
     */
    SUPERSEDE,
    /** A duplicate, or fenced (a newer epoch was issued): stop it. */
    STOP
  }

  /**
   * The verdict on an instance of epoch {@code instanceEpoch} on {@code node}, given what the
   * leader knows of the daemon ({@code known}, null if nothing) and the newest epoch the database
   * issued for it ({@code issued}, 0 if unknown).
   */
  public static Verdict judge(Known known, long issued, String node, long instanceEpoch) {
    long newest = Math.max(known == null ? 0 : known.epoch(), issued);
    boolean theKnownOne =
        known != null && node.equals(known.node()) && known.epoch() == instanceEpoch;
    if (instanceEpoch < newest && !theKnownOne) {
      return Verdict.STOP; // fenced: a newer epoch exists
    }
    if (known == null
        || known.status() == Status.UNPLACED
        || known.status() == Status.FAILED
        || known.node() == null) {
      return Verdict.ADOPT;
    }
    if (theKnownOne) {
      return known.status() == Status.STARTING ? Verdict.CONFIRM : Verdict.KEEP;
    }
    if (instanceEpoch > known.epoch()
        && (known.status() == Status.RUNNING || known.status() == Status.RAISING)) {
      return Verdict.SUPERSEDE;
    }
    return Verdict.STOP;
  }

  /**
   * Whether a daemon known to run on {@code node} since sequence {@code runningSince} is missing
   * from that node's report, requested at sequence {@code requestedAt}: it then stopped unnoticed
   * and is placed anew. A daemon the leader learned of after the request is not missing.
   */
  public static boolean missingFromReport(
      Known known, long runningSince, String node, long requestedAt, boolean reported) {
    return node.equals(known.node())
        && known.status() == Status.RUNNING
        && runningSince < requestedAt
        && !reported;
  }

  /** Whether a daemon must be placed anew because its node left the reachable hosts. */
  public static boolean orphaned(Known known, Set<String> goneHosts) {
    return known.node() != null
        && goneHosts.contains(known.node())
        && known.status() != Status.UNPLACED;
  }

  /**
   * Whether an answer about {@code epoch} on {@code node} (a start's answer, a busy lease) is about
   * the daemon's current placement and not an earlier attempt.
   */
  public static boolean isCurrentStart(Known known, long epoch, String node) {
    return known.status() == Status.STARTING && known.epoch() == epoch && node.equals(known.node());
  }

  /** Whether an instance that ended by itself is the daemon's current one (then restarted). */
  public static boolean isCurrentInstance(Known known, long epoch, String node) {
    return known.status() == Status.RUNNING && known.epoch() == epoch && node.equals(known.node());
  }

  /**
   * The running daemons to move to their ring owner now, at most {@code maxMoves}: those whose node
   * is active but not the owner {@code ring} names. None with fewer than two active hosts.
   */
  public static List<String> moves(
      Map<String, Known> daemons, HashRing ring, Set<String> active, int maxMoves) {
    List<String> moves = new ArrayList<>();
    if (active.size() < 2 || ring.members().isEmpty()) {
      return moves;
    }
    for (Map.Entry<String, Known> e : daemons.entrySet()) {
      if (moves.size() >= maxMoves) {
        break;
      }
      Known k = e.getValue();
      if (k.status() == Status.RUNNING
          && active.contains(k.node())
          && !ring.pick(e.getKey()).equals(k.node())) {
        moves.add(e.getKey());
      }
    }
    return moves;
  }

  /** The daemons a leaving {@code node} must hand over (running or starting there), by name. */
  public static List<String> handOver(Map<String, Known> daemons, String node) {
    List<String> leaving = new ArrayList<>();
    new TreeMap<>(daemons)
        .forEach(
            (name, k) -> {
              if (node.equals(k.node())
                  && (k.status() == Status.RUNNING || k.status() == Status.STARTING)) {
                leaving.add(name);
              }
            });
    return leaving;
  }

  /** Whether a leaving {@code node} still has a daemon that is not placed elsewhere yet. */
  public static boolean stillHosts(Map<String, Known> daemons, String node) {
    for (Known k : daemons.values()) {
      if (node.equals(k.node()) && k.status() != Status.UNPLACED && k.status() != Status.FAILED) {
        return true;
      }
    }
    return false;
  }
}
