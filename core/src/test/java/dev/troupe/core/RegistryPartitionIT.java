package dev.troupe.core;

import static dev.troupe.testkit.Stages.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.remote.RemoteActorRefProvider;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import scala.concurrent.Await;

/**
 * FAULTS.md R3 for the registry and the address book: the link between two nodes drops every
 * message (Artery's test-mode blackhole, both ways) while one of them registers new workers and
 * names and stops old ones; the third node, connected to both, sees every change at once. Once the
 * link passes messages again, the cut-off node converges to the same workers and names without any
 * further change being made: the lost messages show in the periodic status and are healed by a full
 * copy. The Split Brain Resolver waits longer than the test, so nobody is downed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class RegistryPartitionIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final WorkerGroup<EchoWorker.Command> GROUP =
      WorkerGroup.of("partitioned", EchoWorker.Command.class);

  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.inJvm(
          3,
          "pekko.remote.artery.advanced.test-mode = on\n"
              + "pekko.cluster.split-brain-resolver.stable-after = 300s");

  /** Drops (or passes again) every message between {@code from} and {@code to}, both ways. */
  private static void blackhole(TroupeNode from, TroupeNode to, boolean drop) throws Exception {
    RemoteActorRefProvider provider =
        (RemoteActorRefProvider)
            ((ExtendedActorSystem) Adapter.toClassic(from.system())).provider();
    Object command =
        new ThrottlerTransportAdapter.SetThrottle(
            to.address(),
            ThrottlerTransportAdapter.bothDirection(),
            drop
                ? ThrottlerTransportAdapter.blackholeThrottleMode()
                : ThrottlerTransportAdapter.unthrottledThrottleMode());
    Await.result(
        provider.transport().managementCommand(command),
        scala.concurrent.duration.Duration.create(10, TimeUnit.SECONDS));
  }

  private static Set<Address> unreachableSeenBy(TroupeNode node) {
    Set<Address> unreachable = new java.util.HashSet<>();
    for (Member m : Cluster.get(node.system()).state().getUnreachable()) {
      unreachable.add(m.address());
    }
    return unreachable;
  }

  private static Set<String> workerNames(TroupeNode node) {
    Set<String> names = new TreeSet<>();
    for (Map.Entry<String, List<WorkerEntry<?>>> group : node.registry().allWorkers().entrySet()) {
      if (group.getKey().equals(GROUP.name())) {
        group.getValue().forEach(e -> names.add(e.ref().path().name()));
      }
    }
    return names;
  }

  /** The names {@code node} lists for {@code holder}'s node, reachable or not. */
  private static Set<String> namesHeld(TroupeNode node, TroupeNode holder) {
    return new TreeSet<>(node.addressBook().snapshot().getOrDefault(holder.address(), Set.of()));
  }

  private static Set<String> located(TroupeNode node, List<String> names) {
    Set<String> found = new TreeSet<>();
    for (String name : names) {
      if (node.addressBook().locate(name).isPresent()) {
        found.add(name);
      }
    }
    return found;
  }

  @Test
  void aNodeCutOffWhileEntriesChangeConvergesOnceTheLinkPassesAgain() throws Exception {
    TroupeNode a = cluster.get().node(0);
    TroupeNode b = cluster.get().node(1);
    TroupeNode c = cluster.get().node(2);
    List<ActorRef<EchoWorker.Command>> before = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(a, "before-" + i);
      before.add(worker);
      await(a.registry().register(GROUP, worker), TIMEOUT);
      names.add("held-before-" + i);
      await(a.addressBook().register("held-before-" + i, worker), TIMEOUT);
    }
    Set<String> initial = workerNames(a);
    assertEquals(20, initial.size());
    for (TroupeNode node : List.of(b, c)) {
      Eventually.awaitAssert(
          TIMEOUT,
          "the first 20 workers on " + node.name(),
          () -> assertEquals(initial, workerNames(node)));
    }

    blackhole(a, b, true);
    try {
      Eventually.awaitAssert(
          TIMEOUT,
          "b sees a unreachable",
          () ->
              assertTrue(
                  unreachableSeenBy(b).contains(a.address()),
                  "unreachable: " + unreachableSeenBy(b)));
      // While cut off: a's workers leave b's workers() (reachability), and a changes its entries.
      Eventually.awaitAssert(
          TIMEOUT,
          "a's workers out of b's workers()",
          () -> assertEquals(List.of(), b.registry().workers(GROUP)));
      for (int i = 0; i < 30; i++) {
        ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(a, "during-" + i);
        await(a.registry().register(GROUP, worker), TIMEOUT);
        names.add("held-during-" + i);
        await(a.addressBook().register("held-during-" + i, worker), TIMEOUT);
      }
      for (int i = 0; i < 10; i++) {
        before.get(i).tell(EchoWorker.Stop.INSTANCE); // its worker entry and its name go
      }
      Set<String> expected = new TreeSet<>();
      for (int i = 10; i < 20; i++) {
        expected.add("before-" + i);
      }
      for (int i = 0; i < 30; i++) {
        expected.add("during-" + i);
      }
      List<String> expectedNames = names.subList(10, names.size());
      Eventually.awaitAssert(TIMEOUT, "a's own view", () -> assertEquals(expected, workerNames(a)));
      Eventually.awaitAssert(
          TIMEOUT,
          "c, connected to both, sees the changes",
          () -> {
            assertEquals(expected, workerNames(c));
            // snapshot(), not locate(): a is unreachable to b, so to the whole cluster, and
            // holders on unreachable nodes are not located (they are listed).
            assertEquals(new TreeSet<>(expectedNames), namesHeld(c, a));
          });
      assertEquals(initial, workerNames(b), "b got none of a's changes through the cut");
      assertEquals(new TreeSet<>(names.subList(0, 20)), namesHeld(b, a), "nor any of its names");
    } finally {
      blackhole(a, b, false);
    }

    Set<String> expected = workerNames(a);
    List<String> expectedNames = names.subList(10, names.size());
    Eventually.awaitAssert(
        TIMEOUT,
        "b sees a reachable again and holds exactly a's workers and names",
        () -> {
          assertTrue(unreachableSeenBy(b).isEmpty(), "unreachable: " + unreachableSeenBy(b));
          assertEquals(expected, workerNames(b));
          assertEquals(40, b.registry().workers(GROUP).size());
          assertEquals(new TreeSet<>(expectedNames), located(b, names));
        });
    for (String name : expectedNames) {
      assertEquals(Optional.of(a.address()), b.addressBook().locate(name), name);
    }
    assertEquals(3, cluster.get().liveNodes().size(), "nobody was downed");
  }
}
