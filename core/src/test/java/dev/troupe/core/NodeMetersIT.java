package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.RequiredSearch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes, each passing Troupe's meters to its own {@link SimpleMeterRegistry}: the registry's
 * and the address book's meters count what happened on each node, tagged with the node's name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class NodeMetersIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final SimpleMeterRegistry[] meters = {
    new SimpleMeterRegistry(), new SimpleMeterRegistry()
  };

  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.of(() -> TestCluster.start(2, "", i -> meters[i]));

  private static RequiredSearch meter(int node, String name) {
    return meters[node].get(name).tag("node", cluster.get().node(node).name());
  }

  /** The count of a Counter or a FunctionCounter (lookups are counted by the latter). */
  private static double count(int node, String name, String tag, String value) {
    return meter(node, name).tag(tag, value).meter().measure().iterator().next().getValue();
  }

  @Test
  void theRegistrysMetersCountRegistrationsLookupsEntriesPropagationAndPrunes() {
    TroupeNode a = cluster.get().node(0);
    TroupeNode b = cluster.get().node(1);
    WorkerGroup<EchoWorker.Command> group = WorkerGroup.of("metered", EchoWorker.Command.class);
    ActorRef<EchoWorker.Command> w1 = EchoWorker.spawn(a, "metered-1");
    ActorRef<EchoWorker.Command> w2 = EchoWorker.spawn(a, "metered-2");
    Stages.await(a.registry().register(group, w1), TIMEOUT);
    Stages.await(a.registry().register(group, w2), TIMEOUT);
    assertEquals(2, count(0, "troupe.registry.registrations", "group", "metered"));

    Eventually.awaitAssert(
        TIMEOUT, "b sees both workers", () -> assertEquals(2, b.registry().workers(group).size()));
    assertTrue(count(1, "troupe.registry.lookups", "outcome", "found") >= 1);
    assertEquals(2, meter(0, "troupe.registry.entries").tag("group", "metered").gauge().value());
    assertEquals(2, meter(1, "troupe.registry.entries").tag("group", "metered").gauge().value());
    assertTrue(meter(1, "troupe.registry.propagation").timer().count() >= 1, "lag measured on b");
    assertTrue(
        meter(1, "troupe.registry.propagation").timer().max(java.util.concurrent.TimeUnit.SECONDS)
            < TIMEOUT.toSeconds());

    double empty = count(1, "troupe.registry.lookups", "outcome", "empty");
    assertEquals(
        Optional.empty(),
        b.registry().pick(WorkerGroup.of("metered-none", EchoWorker.Command.class)));
    assertEquals(empty + 1, count(1, "troupe.registry.lookups", "outcome", "empty"));
    assertThrows(IllegalArgumentException.class, () -> b.registry().pick(null));
    assertEquals(1, meter(1, "troupe.registry.lookup.failures").functionCounter().count());

    Stages.await(a.registry().unregister(group, w2), TIMEOUT);
    assertEquals(1, count(0, "troupe.registry.unregistrations", "group", "metered"));
    w1.tell(EchoWorker.Stop.INSTANCE);
    Eventually.awaitAssert(
        TIMEOUT,
        "a prunes its stopped worker",
        () -> assertEquals(1, count(0, "troupe.registry.prunes", "reason", "actor-stopped")));
    Eventually.awaitAssert(
        TIMEOUT,
        "b's gauge drops to 0",
        () ->
            assertEquals(
                0, meter(1, "troupe.registry.entries").tag("group", "metered").gauge().value()));
  }

  @Test
  void theAddressBooksMetersCountRegistrationsLookupsEntriesPropagationAndPrunes() {
    TroupeNode a = cluster.get().node(0);
    TroupeNode b = cluster.get().node(1);
    ActorRef<EchoWorker.Command> holder = EchoWorker.spawn(a, "metered-holder");
    double registered = meter(0, "troupe.addressbook.registrations").counter().count();
    Stages.await(a.addressBook().register("metered-name", holder), TIMEOUT);
    assertEquals(registered + 1, meter(0, "troupe.addressbook.registrations").counter().count());

    Eventually.awaitAssert(
        TIMEOUT,
        "b finds the name",
        () -> assertTrue(b.addressBook().locate("metered-name").isPresent()));
    assertTrue(count(1, "troupe.addressbook.lookups", "outcome", "found") >= 1);
    assertTrue(meter(1, "troupe.addressbook.entries").gauge().value() >= 1);
    assertTrue(meter(1, "troupe.addressbook.propagation").timer().count() >= 1);

    double stopped = count(0, "troupe.addressbook.prunes", "reason", "actor-stopped");
    holder.tell(EchoWorker.Stop.INSTANCE);
    Eventually.awaitAssert(
        TIMEOUT,
        "a prunes its stopped holder",
        () ->
            assertEquals(
                stopped + 1, count(0, "troupe.addressbook.prunes", "reason", "actor-stopped")));
  }

  @Test
  void eachNodesMetersGoToItsOwnRegistryTaggedWithItsName() {
    MeterRegistry own = cluster.get().node(0).meterRegistry();
    assertTrue(own.find("troupe.registry.lookups").meters().size() >= 2);
    String other = cluster.get().node(1).name();
    assertTrue(meters[0].find("troupe.registry.lookups").tag("node", other).meters().isEmpty());
    // Nodes without a registry (every other cluster test) record nothing and fail nothing.
  }
}
