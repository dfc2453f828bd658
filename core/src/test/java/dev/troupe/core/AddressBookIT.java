package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class AddressBookIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  @RegisterExtension static final ClusterExtension<TestCluster> cluster = ClusterExtension.inJvm(3);

  private static <T> T await(CompletionStage<T> stage) {
    return Stages.await(stage, TIMEOUT);
  }

  private void awaitLocated(String name, Address expected) {
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          name + " located on " + node.name(),
          () -> assertEquals(Optional.of(expected), node.locate(name), "on " + node.name()));
    }
  }

  @Test
  void aNameRegisteredOnOneNodeIsFoundOnEveryNode() {
    TroupeNode a = cluster.get().node(0);
    ActorRef<EchoWorker.Command> billing = EchoWorker.spawn(a, "billing");
    await(a.addressBook().register("billing", billing, EchoWorker.Command.class));
    assertEquals(Optional.of(a.address()), a.locate("billing"), "at once on the registering node");

    awaitLocated("billing", a.address());
    for (TroupeNode node : cluster.get().liveNodes()) {
      Location location = node.addressBook().resolve("billing");
      Location.Found found = assertInstanceOf(Location.Found.class, location, node.name());
      assertEquals(a.address(), found.node());
      ActorRef<EchoWorker.Command> ref =
          node.addressBook().lookup("billing", EchoWorker.Command.class).orElseThrow();
      String reply =
          await(
              node.<EchoWorker.Command, String>call(
                  "billing",
                  replyTo -> new EchoWorker.Echo("from " + node.name(), replyTo),
                  TIMEOUT));
      assertEquals("billing:from " + node.name(), reply);
      assertEquals("billing", ref.path().name());
      assertTrue(
          node.addressBook().snapshot().get(a.address()).contains("billing"),
          "snapshot on " + node.name());
    }
  }

  @Test
  void theOlderOfTwoHoldersWinsEverywhereAndTheYoungerIsStopped() {
    TroupeNode a = cluster.get().node(0);
    TroupeNode b = cluster.get().node(1);
    ActorRef<EchoWorker.Command> older = EchoWorker.spawn(a, "dup-older");
    await(a.addressBook().register("dup", older, EchoWorker.Command.class));
    awaitLocated("dup", a.address());

    ActorRef<EchoWorker.Command> younger = EchoWorker.spawn(b, "dup-younger");
    CompletionStage<?> youngerStopped = b.watch(younger);
    await(b.addressBook().register("dup", younger, EchoWorker.Command.class));

    await(youngerStopped); // its own node stops it
    awaitLocated("dup", a.address());
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "no trace of the younger holder on " + node.name(),
          () ->
              assertTrue(
                  !node.addressBook()
                      .snapshot()
                      .getOrDefault(b.address(), Set.of())
                      .contains("dup"),
                  "names of node 1 on " + node.name()));
    }
    // The older one still serves.
    assertEquals(
        "dup-older:still",
        await(
            b.<EchoWorker.Command, String>call(
                "dup", replyTo -> new EchoWorker.Echo("still", replyTo), TIMEOUT)));
  }

  /** A holder that is told, instead of stopped, when it loses its name. */
  private static Behavior<String> politeHolder(ActorRef<String> told) {
    return Behaviors.receive(String.class)
        .onMessage(
            String.class,
            msg -> {
              told.tell(msg);
              return Behaviors.same();
            })
        .build();
  }

  @Test
  void aYoungerDuplicateCanBeToldInsteadOfStopped() {
    TroupeNode a = cluster.get().node(0);
    TroupeNode c = cluster.get().node(2);
    ActorRef<String> older =
        a.system().systemActorOf(Behaviors.ignore(), "polite-older", Props.empty());
    await(a.addressBook().register("polite", older, String.class));
    awaitLocated("polite", a.address());

    java.util.concurrent.LinkedBlockingQueue<String> told =
        new java.util.concurrent.LinkedBlockingQueue<>();
    ActorRef<String> sink =
        c.system()
            .systemActorOf(
                Behaviors.receive(String.class)
                    .onMessage(
                        String.class,
                        m -> {
                          told.add(m);
                          return Behaviors.same();
                        })
                    .build(),
                "polite-sink",
                Props.empty());
    ActorRef<String> younger =
        c.system().systemActorOf(politeHolder(sink), "polite-younger", Props.empty());
    await(c.addressBook().register("polite", younger, String.class, "you lost [polite]"));
    try {
      assertEquals("you lost [polite]", told.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    awaitLocated("polite", a.address());
  }

  @Test
  void aStoppedHolderFreesItsNameEverywhere() {
    TroupeNode c = cluster.get().node(2);
    ActorRef<EchoWorker.Command> holder = EchoWorker.spawn(c, "short-lived");
    await(c.addressBook().register("short-lived", holder));
    awaitLocated("short-lived", c.address());

    holder.tell(EchoWorker.Stop.INSTANCE);
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "short-lived freed on " + node.name(),
          () -> assertEquals(Optional.empty(), node.locate("short-lived")));
      Eventually.awaitAssert(
          TIMEOUT,
          "short-lived absent on " + node.name(),
          () -> assertInstanceOf(Location.Absent.class, node.addressBook().resolve("short-lived")));
      Throwable sendFailure = Stages.failure(node.send("short-lived", EchoWorker.Stop.INSTANCE));
      assertInstanceOf(NoSuchElementException.class, sendFailure);
      assertTrue(sendFailure.getMessage().contains("[short-lived]"), sendFailure.getMessage());
    }
  }

  @Test
  void pickNodeGivesTheSameNodeEverywhereAndUsesEveryNode() {
    Set<Address> all =
        cluster.get().liveNodes().stream().map(TroupeNode::address).collect(Collectors.toSet());
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "available nodes on " + node.name(),
          () -> assertEquals(all, node.addressBook().availableNodes()));
    }
    Set<Address> used = new java.util.HashSet<>();
    for (int i = 0; i < 300; i++) {
      String key = "cart-" + i;
      Address owner = cluster.get().node(0).addressBook().pickNode(key);
      used.add(owner);
      for (TroupeNode node : cluster.get().liveNodes()) {
        assertEquals(owner, node.addressBook().pickNode(key), key + " on " + node.name());
      }
      // The one ring: the same answer as HashRing over the available nodes.
      assertEquals(
          owner.toString(),
          HashRing.of(all.stream().map(Address::toString).collect(Collectors.toList())).pick(key));
    }
    assertEquals(all, used);
  }

  @Test
  void aMajorityQuerySeesANameOnceItHasReplicated() {
    TroupeNode b = cluster.get().node(1);
    ActorRef<EchoWorker.Command> holder = EchoWorker.spawn(b, "queried");
    // register completes once the name is in b's own replica; a majority that does not include b
    // sees it a few milliseconds later (CI once queried in between).
    await(b.addressBook().register("queried", holder));
    Eventually.awaitAssert(
        TIMEOUT,
        "a majority query from node 2 to see [queried]",
        () -> {
          Map<String, Address> view = await(cluster.get().node(2).addressBook().query(TIMEOUT));
          assertEquals(b.address(), view.get("queried"), "query result: " + view);
        });
  }

  @Test
  void callAndSendFailClearlyForAnUnknownNameAndCallTimesOut() {
    TroupeNode a = cluster.get().node(0);
    Throwable unknown =
        Stages.failure(
            a.<EchoWorker.Command, String>call(
                "nobody", replyTo -> new EchoWorker.Echo("x", replyTo), TIMEOUT));
    assertInstanceOf(NoSuchElementException.class, unknown);
    assertTrue(unknown.getMessage().contains("[nobody]"), unknown.getMessage());
    assertInstanceOf(NoSuchElementException.class, Stages.failure(a.send("nobody", "x")));

    ActorRef<String> silent = a.system().systemActorOf(Behaviors.ignore(), "silent", Props.empty());
    await(a.addressBook().register("silent", silent));
    Throwable timedOut =
        Stages.failure(
            a.<String, String>call("silent", replyTo -> "hello?", Duration.ofMillis(300)));
    assertInstanceOf(TimeoutException.class, timedOut);
    assertTrue(timedOut.getMessage().contains("[silent]"), timedOut.getMessage());
  }

  @Test
  void watchCompletesWhenALocalOrRemoteActorStops() {
    ActorRef<EchoWorker.Command> remote = EchoWorker.spawn(cluster.get().node(1), "watched-remote");
    await(cluster.get().node(1).addressBook().register("watched-remote", remote));
    awaitLocated("watched-remote", cluster.get().node(1).address());
    ActorRef<EchoWorker.Command> seenFromA =
        cluster
            .get()
            .node(0)
            .addressBook()
            .lookup("watched-remote", EchoWorker.Command.class)
            .get();
    CompletionStage<?> stopped = cluster.get().node(0).watch(seenFromA);
    assertTrue(!stopped.toCompletableFuture().isDone(), "not stopped yet");
    seenFromA.tell(EchoWorker.Stop.INSTANCE);
    await(stopped);
    // An actor that has already stopped completes at once.
    await(cluster.get().node(0).watch(seenFromA));
  }

  @Test
  void badInputIsRejectedWithAClearError() {
    AddressBook book = cluster.get().node(0).addressBook();
    ActorRef<EchoWorker.Command> ref = EchoWorker.spawn(cluster.get().node(0), "typed-holder");
    await(book.register("typed", ref, EchoWorker.Command.class));
    IllegalArgumentException wrongProtocol =
        assertThrows(IllegalArgumentException.class, () -> book.lookup("typed", String.class));
    assertTrue(
        wrongProtocol.getMessage().contains("EchoWorker$Command"), wrongProtocol.getMessage());
    assertTrue(wrongProtocol.getMessage().contains("java.lang.String"), wrongProtocol.getMessage());

    IllegalArgumentException badName =
        assertThrows(IllegalArgumentException.class, () -> book.register("a b", ref));
    assertTrue(
        badName.getMessage().startsWith("AddressBook name must be " + Names.RULE),
        badName.getMessage());
    assertTrue(badName.getMessage().contains("[a b]"), badName.getMessage());
    assertThrows(IllegalArgumentException.class, () -> book.register("", ref));
    assertThrows(IllegalArgumentException.class, () -> book.register(null, ref));
    assertThrows(IllegalArgumentException.class, () -> book.register("x", null));
    assertThrows(IllegalArgumentException.class, () -> book.locate(null));
    assertThrows(IllegalArgumentException.class, () -> book.pickNode(null));
    assertThrows(IllegalArgumentException.class, () -> book.query(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> cluster.get().node(0).send(null, "x"));

    ActorRef<EchoWorker.Command> remote = EchoWorker.spawn(cluster.get().node(1), "remote-holder");
    await(cluster.get().node(1).addressBook().register("remote-holder", remote));
    awaitLocated("remote-holder", cluster.get().node(1).address());
    ActorRef<Object> remoteSeenFromA = book.lookup("remote-holder", Object.class).orElseThrow();
    Throwable notLocal = Stages.failure(book.register("stolen", remoteSeenFromA));
    assertInstanceOf(IllegalArgumentException.class, notLocal);
    assertTrue(notLocal.getMessage().contains("only actors of this node"), notLocal.getMessage());
  }

  @Test
  void namesOfACrashedNodeArePrunedAndTheNameIsUnknownUntilItIsDowned() {
    TroupeNode doomed = cluster.get().addNode();
    int index = cluster.get().nodes().indexOf(doomed);
    Address doomedAddress = doomed.address();
    ActorRef<EchoWorker.Command> holder = EchoWorker.spawn(doomed, "doomed-holder");
    await(doomed.addressBook().register("doomed", holder));
    awaitLocated("doomed", doomedAddress);

    cluster.get().crashNoWait(index);
    TroupeNode observer = cluster.get().node(0);
    Eventually.awaitAssert(
        TIMEOUT,
        "doomed not located once its node is unreachable",
        () -> assertEquals(Optional.empty(), observer.locate("doomed")));
    Location whileUnreachable = observer.addressBook().resolve("doomed");
    if (TestCluster.allMemberAddresses(observer).contains(doomedAddress)) {
      // Held on an unreachable node: this node cannot say it is absent.
      assertInstanceOf(Location.Unknown.class, whileUnreachable, whileUnreachable.toString());
    }
    cluster.get().awaitRemoved(doomedAddress);
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "names of the removed node pruned on " + node.name(),
          () -> assertEquals(null, node.addressBook().snapshot().get(doomedAddress)));
      Eventually.awaitAssert(
          TIMEOUT,
          "doomed absent on " + node.name(),
          () -> assertInstanceOf(Location.Absent.class, node.addressBook().resolve("doomed")));
    }
  }

  @Test
  void resolveIsUnknownUntilTheNodeIsUp() throws Exception {
    TroupeNode lonely =
        TroupeNode.start(
            NodeOptions.builder()
                .name("not-yet-up")
                .port(0)
                .seedNodes(List.of("pekko://troupe@127.0.0.1:9"))
                .config(TestCluster.TEST_CONFIG)
                .build());
    try {
      Location location = lonely.addressBook().resolve("anything");
      assertInstanceOf(Location.Unknown.class, location, location.toString());
      assertThrows(IllegalStateException.class, () -> lonely.addressBook().pickNode("k"));
    } finally {
      lonely.system().terminate();
      lonely.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
