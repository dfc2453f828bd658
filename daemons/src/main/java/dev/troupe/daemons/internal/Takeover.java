package dev.troupe.daemons.internal;

import dev.troupe.core.HashRing;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * INTERNAL API. The pure rules by which a daemon host takes over the daemons of unreachable nodes
 * while the leader's own node is unreachable, so that they need not wait for a new leader: the
 * leader's node is unreachable for as long as the Split Brain Resolver takes to down it, and a new
 * leader then needs its lease, the hosts' reports and the scanners (about 19 s with the shipped
 * settings), while the lease table already says who ran what and when the lease ends.
 *
 * <p>Safety does not rest on these rules: a host starts an instance only under the daemon's lease,
 * with a new epoch, so two hosts that disagree (different views of reachability) at worst both ask
 * and one is refused. The rules only make the right host ask: the owner of the name on the ring
 * over the reachable, active daemon hosts, which is where the next leader would place it too.
 */
public final class Takeover {
  private Takeover() {}

  /**
   * A cluster member as the rules see it: address, lease owner id, and whether it is Up/Leaving.
   */
  public record Member(String address, String owner, boolean upOrLeaving) {}

  /**
   * The node that hosts the leader singleton: the oldest Up or Leaving member, as Cluster Singleton
   * places it. {@code membersOldestFirst} is ordered by age; null if none is Up or Leaving.
   */
  public static String leaderNode(List<Member> membersOldestFirst) {
    for (Member m : membersOldestFirst) {
      if (m.upOrLeaving()) {
        return m.address();
      }
    }
    return null;
  }

  /**
   * The lease owners whose daemons this host may take over, or none: only while the leader's node
   * is not among the reachable daemon hosts ({@code reachableHosts}, every state), the owners of
   * the members that are not reachable hosts either.
   */
  public static Set<String> lostOwners(
      List<Member> membersOldestFirst, Set<String> reachableHosts) {
    String leader = leaderNode(membersOldestFirst);
    Set<String> lost = new TreeSet<>();
    if (leader == null || reachableHosts.contains(leader)) {
      return lost;
    }
    for (Member m : membersOldestFirst) {
      if (!reachableHosts.contains(m.address())) {
        lost.add(m.owner());
      }
    }
    return lost;
  }

  /**
   * Of the {@code held} leases of lost owners, those this host ({@code self}) takes over: the ones
   * {@code ring} (over the reachable, active hosts) gives it, that do not run or start here already
   * ({@code busyHere}).
   */
  public static List<DaemonStore.HeldLease> mine(
      String self, HashRing ring, Collection<DaemonStore.HeldLease> held, Set<String> busyHere) {
    List<DaemonStore.HeldLease> mine = new ArrayList<>();
    if (ring.members().isEmpty()) {
      return mine;
    }
    for (DaemonStore.HeldLease lease : held) {
      if (!busyHere.contains(lease.name()) && self.equals(ring.pick(lease.name()))) {
        mine.add(lease);
      }
    }
    return mine;
  }
}
