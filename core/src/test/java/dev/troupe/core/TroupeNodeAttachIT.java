package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.troupe.testkit.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.FishingOutcome;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TroupeNode#attach}: Troupe added to actor systems the application created, with their own
 * guardian and a system name other than {@code troupe}, and the typed registry API for behaviors.
 */
final class TroupeNodeAttachIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final WorkerGroup<String> GROUP = WorkerGroup.of("shop-workers", String.class);

  /** The application's own configuration: a cluster system with a downing provider, port 0. */
  private static final String APP_CONFIG =
      String.join(
          "\n",
          "pekko.actor.provider = cluster",
          "pekko.remote.artery.canonical.hostname = 127.0.0.1",
          "pekko.remote.artery.canonical.port = 0",
          "pekko.cluster.downing-provider-class ="
              + " \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"",
          TestCluster.TEST_CONFIG);

  private final List<ActorSystem<?>> systems = new ArrayList<>();

  @AfterEach
  void terminate() throws Exception {
    for (ActorSystem<?> system : systems) {
      system.terminate();
    }
    for (ActorSystem<?> system : systems) {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static Config config(String extra) {
    return ConfigFactory.parseString(extra + "\n" + APP_CONFIG).withFallback(ConfigFactory.load());
  }

  /** An application system named "shop" whose guardian attaches Troupe in its setup. */
  private ActorSystem<Void> shop(CompletableFuture<TroupeNode> attached) {
    Behavior<Void> guardian =
        Behaviors.setup(
            ctx -> {
              attached.complete(TroupeNode.attach(ctx.getSystem()));
              return Behaviors.empty();
            });
    ActorSystem<Void> system = ActorSystem.create(guardian, "shop", config(""));
    systems.add(system);
    return system;
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void twoAttachedSystemsShareTheRegistryAndTheAddressBookThroughTheTypedApi() throws Exception {
    CompletableFuture<TroupeNode> first = new CompletableFuture<>();
    CompletableFuture<TroupeNode> second = new CompletableFuture<>();
    ActorSystem<Void> a = shop(first);
    ActorSystem<Void> b = shop(second);
    TroupeNode nodeA = await(first);
    TroupeNode nodeB = await(second);
    assertTrue(nodeA.isAttached());
    assertSame(nodeA, TroupeNode.attach(a), "one node per system");
    assertFalse(nodeA.whenUp().toCompletableFuture().isDone(), "attach never joins by itself");

    // The application forms the cluster, as in any Pekko application.
    Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    Cluster.get(b).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    nodeA.whenUp().toCompletableFuture().get(45, TimeUnit.SECONDS);
    nodeB.whenUp().toCompletableFuture().get(45, TimeUnit.SECONDS);
    assertEquals("shop", nodeB.address().system());

    // A subscriber on b, a worker registered on a with an acknowledgement to an actor.
    TestProbe<WorkerListing<String>> listings = TestProbe.create(b);
    nodeB.registry().subscribe(GROUP, listings.ref());
    assertEquals(List.of(), listings.receiveMessage(TIMEOUT).workers(), "the first listing");
    TestProbe<String> worker = TestProbe.create(a);
    TestProbe<StatusReply<Done>> acks = TestProbe.create(a);
    nodeA.registry().register(GROUP, worker.ref(), acks.ref());
    assertTrue(acks.receiveMessage(TIMEOUT).isSuccess());
    List<WorkerListing<String>> fishedOut = listings.fishForMessage(TIMEOUT, l -> fished(l, 1));
    WorkerListing<String> listing = fishedOut.get(fishedOut.size() - 1);
    assertTrue(listing.isFor(GROUP));
    ActorRef<String> listed = listing.workers().get(0).ref(); // a remote ref on b, same actor
    assertEquals(
        worker.ref().path().toStringWithoutAddress(), listed.path().toStringWithoutAddress());
    assertEquals(worker.ref().path().uid(), listed.path().uid());
    assertEquals(nodeA.address(), listing.workers().get(0).node());

    // The address book, the same way.
    TestProbe<String> named = TestProbe.create(a);
    nodeA.addressBook().register("shop-front", named.ref(), acks.ref());
    assertTrue(acks.receiveMessage(TIMEOUT).isSuccess());
    TestProbe<Object> check = TestProbe.create(b);
    check.awaitAssert(
        TIMEOUT,
        () -> {
          assertEquals(Optional.of(nodeA.address()), nodeB.addressBook().locate("shop-front"));
          return null;
        });

    // A remote actor cannot be registered: an error reply that names it, the node keeps going.
    TestProbe<String> onB = TestProbe.create(b);
    nodeA.registry().register(GROUP, onB.ref(), acks.ref());
    StatusReply<Done> refused = acks.receiveMessage(TIMEOUT);
    assertTrue(refused.isError());
    assertTrue(refused.getError().getMessage().contains("only actors of this node"));

    // Unregister with an acknowledgement; b's listing follows.
    nodeA.registry().unregister(GROUP, worker.ref(), acks.ref());
    assertTrue(acks.receiveMessage(TIMEOUT).isSuccess());
    listings.fishForMessage(TIMEOUT, l -> fished(l, 0));

    // close() of an attached node leaves the application's system running and Troupe with it.
    nodeA.close();
    assertFalse(a.whenTerminated().isCompleted());
    nodeA.registry().register(GROUP, worker.ref(), acks.ref());
    assertTrue(acks.receiveMessage(TIMEOUT).isSuccess());
    listings.fishForMessage(TIMEOUT, l -> fished(l, 1));
  }

  private static FishingOutcome fished(WorkerListing<String> listing, int size) {
    return listing.workers().size() == size
        ? FishingOutcomes.complete()
        : FishingOutcomes.continueAndIgnore();
  }

  /** Forwards the listings it gets to {@code to}; a worker of its own group too. */
  private static Behavior<Object> forwarder(ActorRef<Object> to) {
    return Behaviors.receive(Object.class)
        .onMessageEquals("stop", Behaviors::stopped)
        .onAnyMessage(
            m -> {
              to.tell(m);
              return Behaviors.same();
            })
        .build();
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"})
  void aSubscriberThatStopsOrUnsubscribesGetsNoMoreListings() throws Exception {
    CompletableFuture<TroupeNode> attached = new CompletableFuture<>();
    ActorSystem<Void> a = shop(attached);
    TroupeNode node = await(attached);
    Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    node.whenUp().toCompletableFuture().get(45, TimeUnit.SECONDS);

    WorkerGroup<Object> group = WorkerGroup.of("peers", Object.class);
    TestProbe<Object> seen = TestProbe.create(a);
    TestProbe<StatusReply<Done>> acks = TestProbe.create(a);
    // One actor both a worker of the group and its subscriber: one watch serves both.
    ActorRef<Object> member = a.systemActorOf(forwarder(seen.ref()), "member", Props.empty());
    node.registry().subscribe(group, (ActorRef) member);
    node.registry().subscribe(group, (ActorRef) member); // again: still one subscription
    assertEquals(List.of(), ((WorkerListing<?>) seen.receiveMessage(TIMEOUT)).workers());
    node.registry().register(group, member, acks.ref());
    assertTrue(acks.receiveMessage(TIMEOUT).isSuccess());
    assertEquals(1, ((WorkerListing<?>) seen.receiveMessage(TIMEOUT)).workers().size());
    seen.expectNoMessage(Duration.ofMillis(300)); // one subscription, not two

    // A second subscriber that unsubscribes.
    TestProbe<WorkerListing<Object>> other = TestProbe.create(a);
    node.registry().subscribe(group, other.ref());
    assertEquals(1, other.receiveMessage(TIMEOUT).workers().size());
    node.registry().unsubscribe(group, other.ref());

    // The member stops: it leaves the group, and neither it nor the unsubscribed one hears more.
    member.tell("stop");
    TestProbe<Object> check = TestProbe.create(a);
    check.awaitAssert(
        TIMEOUT,
        () -> {
          assertEquals(List.of(), node.registry().workers(group));
          return null;
        });
    TestProbe<Object> third = TestProbe.create(a);
    node.registry().register(group, third.ref(), acks.ref());
    assertTrue(acks.receiveMessage(TIMEOUT).isSuccess());
    other.expectNoMessage(Duration.ofMillis(300));
    assertEquals(1, node.registry().workers(group).size());
  }

  @Test
  void aSystemThatIsNotAClusterIsRefusedNamingTheSetting() throws Exception {
    ActorSystem<Void> local =
        ActorSystem.create(
            Behaviors.empty(),
            "plain",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    systems.add(local);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TroupeNode.attach(local));
    assertTrue(e.getMessage().contains("pekko.actor.provider"), e.getMessage());
    assertTrue(e.getMessage().contains("[local]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TroupeNode.attach(null));
  }

  @Test
  void aStartedNodesSystemAttachesToTheSameNode() throws Exception {
    TroupeNode started =
        TroupeNode.start(NodeOptions.builder().port(0).config(TestCluster.TEST_CONFIG).build());
    assertSame(started, TroupeNode.attach(started.system()));
    assertFalse(started.isAttached());
    started.close(); // a started node's system is Troupe's: close() terminates it
    assertTrue(started.system().whenTerminated().isCompleted());
  }
}
