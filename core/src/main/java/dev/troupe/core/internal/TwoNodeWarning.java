package dev.troupe.core.internal;

import com.typesafe.config.Config;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. Warns, each time the cluster comes to exactly two Up members, that the Split Brain
 * Resolver's majority strategies cannot survive the loss of one of two nodes: when the two lose
 * each other only the side of the lowest address is kept, so if that node is the one that crashed
 * or paused, both go down. Silent under {@code lease-majority} and {@code static-quorum}.
 */
public final class TwoNodeWarning {
  private static final Logger log = LoggerFactory.getLogger(TwoNodeWarning.class);

  private TwoNodeWarning() {}

  /** Whether {@code config}'s downing makes a two-node cluster a full-outage risk. */
  public static boolean atRisk(Config config) {
    if (!config
        .getString("pekko.cluster.downing-provider-class")
        .equals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider")) {
      return false;
    }
    String strategy = config.getString("pekko.cluster.split-brain-resolver.active-strategy");
    return !strategy.equals("lease-majority") && !strategy.equals("static-quorum");
  }

  public static Behavior<ClusterEvent.MemberEvent> create() {
    return Behaviors.setup(
        context -> {
          Config config = context.getSystem().settings().config();
          if (!atRisk(config)) {
            return Behaviors.stopped();
          }
          String strategy = config.getString("pekko.cluster.split-brain-resolver.active-strategy");
          Cluster cluster = Cluster.get(context.getSystem());
          cluster
              .subscriptions()
              .tell(Subscribe.create(context.getSelf(), ClusterEvent.MemberEvent.class));
          // Up members from the events themselves: cluster.state() is updated by another
          // subscriber and may not yet show the event this actor is handling.
          Set<Address> up = new HashSet<>();
          boolean[] warned = {false};
          return Behaviors.receiveMessage(
              event -> {
                if (event instanceof ClusterEvent.MemberUp) {
                  up.add(event.member().address());
                } else if (event.member().status() != MemberStatus.up()) {
                  up.remove(event.member().address());
                }
                if (up.size() == 2 && !warned[0]) {
                  warned[0] = true;
                  log.warn(
                      "This cluster has 2 members and the Split Brain Resolver runs [{}]: when the"
                          + " two lose each other only the node with the lowest address is kept,"
                          + " so if that is the node that crashed or paused, both go down (a full"
                          + " outage). Run 3 or more nodes, or set"
                          + " pekko.cluster.split-brain-resolver.active-strategy = lease-majority"
                          + " (with TroupeLease, see core/README.md) or static-quorum",
                      strategy);
                } else if (up.size() != 2) {
                  warned[0] = false;
                }
                return Behaviors.same();
              });
        });
  }
}
