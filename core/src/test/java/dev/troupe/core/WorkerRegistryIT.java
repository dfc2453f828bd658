package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class WorkerRegistryIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  @RegisterExtension static final ClusterExtension<TestCluster> cluster = ClusterExtension.inJvm(3);

  private static WorkerGroup<EchoWorker.Command> group(String name) {
    return WorkerGroup.of(name, EchoWorker.Command.class);
  }

  private static void await(java.util.concurrent.CompletionStage<?> stage) {
    Stages.await(stage, TIMEOUT);
  }

  private static String echo(TroupeNode from, ActorRef<EchoWorker.Command> worker, String text) {
    try {
      return AskPattern.<EchoWorker.Command, String>ask(
              worker,
              replyTo -> new EchoWorker.Echo(text, replyTo),
              TIMEOUT,
              from.system().scheduler())
          .toCompletableFuture()
          .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("no echo from " + worker, e);
    }
  }

  private void awaitWorkers(
      WorkerGroup<EchoWorker.Command> group, Set<ActorRef<EchoWorker.Command>> expected) {
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "workers of " + group.name() + " on " + node.name(),
          () ->
              assertEquals(
                  names(expected),
                  refs(node.registry().workers(group)),
                  "workers of " + group.name() + " seen by " + node.name()));
    }
  }

  @Test
  void aRegistrationIsSeenOnEveryNodeWithTheSameRegisteredAt() {
    TroupeNode a = cluster.get().node(0);
    WorkerGroup<EchoWorker.Command> group = group("store-a");
    ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(a, "store-a-worker");
    Instant before = Instant.now();
    await(a.registry().register(group, worker));

    // The registering node sees its own registration as soon as register completes.
    List<WorkerEntry<EchoWorker.Command>> local = a.registry().workers(group);
    assertEquals(1, local.size(), "workers on the registering node right after register");
    WorkerEntry<EchoWorker.Command> entry = local.get(0);
    assertEquals(a.address(), entry.node());
    assertEquals(WorkerState.ACTIVE, entry.state());
    assertFalse(entry.registeredAt().isBefore(before.minusMillis(1)), entry.toString());

    awaitWorkers(group, Set.of(worker));
    for (TroupeNode node : cluster.get().liveNodes()) {
      WorkerEntry<EchoWorker.Command> seen = node.registry().workers(group).get(0);
      assertEquals(entry.registeredAt(), seen.registeredAt(), "registeredAt on " + node.name());
      assertEquals(a.address(), seen.node(), "node on " + node.name());
      assertEquals("store-a", seen.group());
      // The ref works from every node.
      assertEquals("store-a-worker:hi", echo(node, seen.ref(), "hi"));
    }
  }

  @Test
  void unregisterRemovesTheWorkerEverywhere() {
    TroupeNode b = cluster.get().node(1);
    WorkerGroup<EchoWorker.Command> group = group("unregister");
    ActorRef<EchoWorker.Command> stays = EchoWorker.spawn(b, "unregister-stays");
    ActorRef<EchoWorker.Command> goes = EchoWorker.spawn(b, "unregister-goes");
    await(b.registry().register(group, stays));
    await(b.registry().register(group, goes));
    awaitWorkers(group, Set.of(stays, goes));

    await(b.registry().unregister(group, goes));
    assertEquals(names(Set.of(stays)), refs(b.registry().workers(group)), "right after unregister");
    awaitWorkers(group, Set.of(stays));
    // Unregistering again is harmless.
    await(b.registry().unregister(group, goes));
  }

  @Test
  void aStoppedWorkerDropsOutEverywhere() {
    TroupeNode c = cluster.get().node(2);
    WorkerGroup<EchoWorker.Command> group = group("stopping");
    ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(c, "stopping-worker");
    await(c.registry().register(group, worker));
    awaitWorkers(group, Set.of(worker));

    worker.tell(EchoWorker.Stop.INSTANCE);
    awaitWorkers(group, Set.of());
    for (TroupeNode node : cluster.get().liveNodes()) {
      assertEquals(Optional.empty(), node.registry().pick(group), "pick on " + node.name());
      assertFalse(node.registry().allWorkers().containsKey("stopping"), node.name());
    }
  }

  @Test
  void pickIsRoundRobinOverThreeWorkers() {
    WorkerGroup<EchoWorker.Command> group = group("round-robin");
    Set<ActorRef<EchoWorker.Command>> workers = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      TroupeNode node = cluster.get().node(i);
      ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(node, "rr-" + i);
      await(node.registry().register(group, worker));
      workers.add(worker);
    }
    awaitWorkers(group, workers);

    for (TroupeNode node : cluster.get().liveNodes()) {
      Map<String, Integer> counts = new HashMap<>();
      for (int i = 0; i < 300; i++) {
        counts.merge(name(node.registry().pick(group).orElseThrow()), 1, Integer::sum);
      }
      assertEquals(names(workers), counts.keySet(), "every worker picked on " + node.name());
      for (int count : counts.values()) {
        assertEquals(100, count, "picks per worker on " + node.name() + ": " + counts);
      }
    }
  }

  @Test
  void pickByKeyIsStableAcrossNodesAndMovesFewKeysWhenAWorkerLeaves() {
    WorkerGroup<EchoWorker.Command> group = group("by-key");
    List<ActorRef<EchoWorker.Command>> workers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      TroupeNode node = cluster.get().node(i % 3);
      ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(node, "key-" + i);
      await(node.registry().register(group, worker));
      workers.add(worker);
    }
    awaitWorkers(group, Set.copyOf(workers));

    Map<String, String> owners = new HashMap<>();
    for (int k = 0; k < 2000; k++) {
      String key = "order-" + k;
      String owner = name(cluster.get().node(0).registry().pick(group, key).get());
      owners.put(key, owner);
      for (TroupeNode node : cluster.get().liveNodes()) {
        assertEquals(
            owner, name(node.registry().pick(group, key).get()), key + " on " + node.name());
      }
      assertEquals(owner, name(cluster.get().node(1).registry().pick(group, key).get()), "again");
    }
    assertEquals(names(workers), Set.copyOf(owners.values()), "keys spread over all workers");

    ActorRef<EchoWorker.Command> leaving = workers.get(3);
    await(cluster.get().node(0).registry().unregister(group, leaving));
    awaitWorkers(group, Set.copyOf(workers.subList(0, 3)));
    int moved = 0;
    int stayedCandidates = 0;
    for (Map.Entry<String, String> e : owners.entrySet()) {
      if (!e.getValue().equals(name(leaving))) {
        stayedCandidates++;
        if (!name(cluster.get().node(2).registry().pick(group, e.getKey()).get())
            .equals(e.getValue())) {
          moved++;
        }
      }
    }
    // Keys of the remaining workers stay where they were (the bounded load moves a few).
    assertTrue(
        moved < stayedCandidates / 10,
        moved + " of " + stayedCandidates + " keys of remaining workers moved");
  }

  @Test
  void aDrainedWorkerIsNeverPickedWhileItStillServes() {
    WorkerGroup<EchoWorker.Command> group = group("drain");
    TroupeNode a = cluster.get().node(0);
    ActorRef<EchoWorker.Command> draining = EchoWorker.spawn(a, "drain-me");
    ActorRef<EchoWorker.Command> active = EchoWorker.spawn(cluster.get().node(1), "drain-other");
    await(a.registry().register(group, draining));
    await(cluster.get().node(1).registry().register(group, active));
    awaitWorkers(group, Set.of(draining, active));

    await(a.registry().drain(group, draining));
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "DRAINING state on " + node.name(),
          () ->
              assertEquals(
                  WorkerState.DRAINING,
                  node.registry().workers(group).stream()
                      .filter(w -> name(w.ref()).equals(name(draining)))
                      .findFirst()
                      .orElseThrow()
                      .state()));
      for (int i = 0; i < 50; i++) {
        assertEquals(name(active), name(node.registry().pick(group).orElseThrow()), node.name());
        assertEquals(name(active), name(node.registry().pick(group, "k" + i).orElseThrow()));
      }
      assertEquals(2, node.registry().workers(group).size(), "still listed on " + node.name());
      // It still serves the work it has.
      assertEquals("drain-me:in-flight", echo(node, draining, "in-flight"));
    }
  }

  @Test
  void subscribersGetTheMembersNowAndAfterEveryChange() {
    WorkerGroup<EchoWorker.Command> group = group("subscribed");
    TroupeNode observer = cluster.get().node(2);
    List<List<WorkerEntry<EchoWorker.Command>>> seen = new CopyOnWriteArrayList<>();
    Subscription subscription = observer.registry().subscribe(group, seen::add);
    Eventually.awaitAssert(
        TIMEOUT, "the initial (empty) list", () -> assertEquals(List.of(List.of()), seen));

    ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(cluster.get().node(0), "subscribed-1");
    await(cluster.get().node(0).registry().register(group, worker));
    Eventually.awaitAssert(
        TIMEOUT,
        "a list with the new worker",
        () -> assertEquals(names(Set.of(worker)), refs(seen.get(seen.size() - 1))));

    subscription.close();
    int calls = seen.size();
    worker.tell(EchoWorker.Stop.INSTANCE);
    awaitWorkers(group, Set.of());
    assertEquals(calls, seen.size(), "no calls after close: " + seen);
  }

  @Test
  void allWorkersListsEveryGroupOfEveryNode() {
    WorkerGroup<EchoWorker.Command> one = group("all-one");
    WorkerGroup<EchoWorker.Command> two = group("all-two");
    ActorRef<EchoWorker.Command> w1 = EchoWorker.spawn(cluster.get().node(0), "all-1");
    ActorRef<EchoWorker.Command> w2 = EchoWorker.spawn(cluster.get().node(1), "all-2");
    await(cluster.get().node(0).registry().register(one, w1));
    await(cluster.get().node(1).registry().register(two, w2));
    awaitWorkers(one, Set.of(w1));
    awaitWorkers(two, Set.of(w2));
    for (TroupeNode node : cluster.get().liveNodes()) {
      Map<String, List<WorkerEntry<?>>> all = node.registry().allWorkers();
      assertEquals(names(Set.of(w1)), anyRefs(all.get("all-one")), node.name());
      assertEquals(names(Set.of(w2)), anyRefs(all.get("all-two")), node.name());
    }
  }

  @Test
  void anUnknownGroupIsEmptyNeverAnError() {
    WorkerGroup<EchoWorker.Command> unknown = group("never-registered");
    TroupeNode node = cluster.get().node(1);
    assertEquals(List.of(), node.registry().workers(unknown));
    assertEquals(Optional.empty(), node.registry().pick(unknown));
    assertEquals(Optional.empty(), node.registry().pick(unknown, "key"));
    // Same name, another protocol: a different group.
    WorkerGroup<String> other = WorkerGroup.of("store-a", String.class);
    assertEquals(List.of(), node.registry().workers(other));
  }

  @Test
  void onlyActorsOfTheLocalNodeCanBeRegistered() {
    ActorRef<EchoWorker.Command> remote = EchoWorker.spawn(cluster.get().node(1), "remote-worker");
    // The ref as node 0 sees it: a remote ref.
    ActorRef<EchoWorker.Command> seenFromA =
        org.apache.pekko.actor.typed.ActorRefResolver.get(cluster.get().node(0).system())
            .resolveActorRef(
                org.apache.pekko.actor.typed.ActorRefResolver.get(cluster.get().node(1).system())
                    .toSerializationFormat(remote));
    CompletionException failure =
        assertThrows(
            CompletionException.class,
            () ->
                cluster
                    .get()
                    .node(0)
                    .registry()
                    .register(group("remote"), seenFromA)
                    .toCompletableFuture()
                    .join());
    assertTrue(failure.getCause() instanceof IllegalArgumentException, failure.toString());
    assertTrue(failure.getCause().getMessage().contains("only actors of this node"));
  }

  @Test
  void badInputIsRejectedWithAClearError() {
    WorkerRegistry registry = cluster.get().node(0).registry();
    IllegalArgumentException empty =
        assertThrows(
            IllegalArgumentException.class, () -> WorkerGroup.of(" ", EchoWorker.Command.class));
    assertTrue(empty.getMessage().contains("WorkerGroup name"), empty.getMessage());
    assertThrows(IllegalArgumentException.class, () -> WorkerGroup.of(null, String.class));
    assertThrows(IllegalArgumentException.class, () -> WorkerGroup.of("g", null));
    assertThrows(IllegalArgumentException.class, () -> WorkerGroup.of("x".repeat(257), Long.class));
    assertThrows(IllegalArgumentException.class, () -> registry.workers(null));
    assertThrows(IllegalArgumentException.class, () -> registry.pick(null));
    assertThrows(IllegalArgumentException.class, () -> registry.pick(group("g"), null));
    assertThrows(IllegalArgumentException.class, () -> registry.register(group("g"), null));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            registry.subscribe(
                group("g"),
                (java.util.function.Consumer<List<WorkerEntry<EchoWorker.Command>>>) null));
    assertThrows(
        IllegalArgumentException.class,
        () -> registry.subscribe(group("g"), (ActorRef<WorkerListing<EchoWorker.Command>>) null));
    // Draining a worker that is not a member fails the stage, naming it.
    ActorRef<EchoWorker.Command> stranger = EchoWorker.spawn(cluster.get().node(0), "stranger");
    CompletionException failure =
        assertThrows(
            CompletionException.class,
            () -> registry.drain(group("g"), stranger).toCompletableFuture().join());
    assertTrue(failure.getCause().getMessage().contains("not a registered member"));
  }

  @Test
  void aGracefulLeaveDrainsTheWorkersOfTheLeavingNodeFirst() {
    WorkerGroup<EchoWorker.Command> group = group("leaving");
    TroupeNode leaving = cluster.get().addNode();
    int index = cluster.get().nodes().indexOf(leaving);
    ActorRef<EchoWorker.Command> worker = EchoWorker.spawn(leaving, "leaving-worker");
    await(leaving.registry().register(group, worker));
    awaitWorkers(group, Set.of(worker));

    List<List<WorkerEntry<EchoWorker.Command>>> seen = new CopyOnWriteArrayList<>();
    Subscription subscription = cluster.get().node(0).registry().subscribe(group, seen::add);
    Eventually.awaitCondition(TIMEOUT, "the first list", () -> !seen.isEmpty());
    cluster.get().leave(index);
    awaitWorkers(group, Set.of());
    subscription.close();

    List<WorkerState> states =
        seen.stream()
            .map(list -> list.isEmpty() ? null : list.get(0).state())
            .collect(Collectors.toList());
    assertTrue(
        states.contains(WorkerState.DRAINING),
        "node 0 saw the worker DRAINING before it left: " + states);
    assertEquals(null, states.get(states.size() - 1), "and then gone: " + states);
  }

  @Test
  void theWorkersOfACrashedNodeLeavePickAtOnceAndAllWorkersWhenItIsDowned() {
    WorkerGroup<EchoWorker.Command> group = group("crash");
    TroupeNode doomed = cluster.get().addNode();
    int index = cluster.get().nodes().indexOf(doomed);
    Address doomedAddress = doomed.address();
    ActorRef<EchoWorker.Command> survivor =
        EchoWorker.spawn(cluster.get().node(0), "crash-survivor");
    ActorRef<EchoWorker.Command> victim = EchoWorker.spawn(doomed, "crash-victim");
    await(cluster.get().node(0).registry().register(group, survivor));
    await(doomed.registry().register(group, victim));
    awaitWorkers(group, Set.of(survivor, victim));

    cluster.get().crashNoWait(index);
    TroupeNode observer = cluster.get().node(1);
    Eventually.awaitAssert(
        TIMEOUT,
        "the crashed node's worker out of workers() on " + observer.name(),
        () -> assertEquals(names(Set.of(survivor)), refs(observer.registry().workers(group))));
    // Read allWorkers first, membership second: if the node is still a member now, it was one
    // when allWorkers was read, so the receptionist had not dropped its entries yet.
    Set<String> allNow = anyRefs(observer.registry().allWorkers().get("crash"));
    boolean stillMember = TestCluster.allMemberAddresses(observer).contains(doomedAddress);
    if (stillMember) {
      assertTrue(allNow.contains(name(victim)), "allWorkers keeps it until downed: " + allNow);
    }
    for (int i = 0; i < 30; i++) {
      assertEquals(name(survivor), name(observer.registry().pick(group).orElseThrow()));
    }
    cluster.get().awaitRemoved(doomedAddress);
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "no stale entry on " + node.name(),
          () ->
              assertEquals(
                  names(Set.of(survivor)), anyRefs(node.registry().allWorkers().get("crash"))));
    }
  }

  /**
   * Workers are compared by actor name (unique in this test): a worker seen from another node is a
   * remote ref, which does not equal the local ref of its own node.
   */
  private static Set<String> refs(List<WorkerEntry<EchoWorker.Command>> l) {
    return l.stream().map(e -> e.ref().path().name()).collect(Collectors.toSet());
  }

  private static Set<String> anyRefs(List<WorkerEntry<?>> list) {
    return list == null
        ? Set.of()
        : list.stream().map(e -> e.ref().path().name()).collect(Collectors.toSet());
  }

  private static Set<String> names(java.util.Collection<ActorRef<EchoWorker.Command>> refs) {
    return refs.stream().map(r -> r.path().name()).collect(Collectors.toSet());
  }

  private static String name(ActorRef<?> ref) {
    return ref.path().name();
  }
}
