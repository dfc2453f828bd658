package dev.troupe.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The replication core on its own: peers wired by hand, messages lost on purpose. */
final class OwnedReplicasTest {

  /** A network of cores: messages queue until delivered, and a filter may drop them. */
  private static final class Net {
    final Map<String, OwnedReplicas> cores = new HashMap<>();
    final ArrayDeque<Object[]> queue = new ArrayDeque<>();
    Predicate<ReplicaMessage> drop = m -> false;
    long now = 0;
    final List<ReplicaMessage> delivered = new ArrayList<>();

    OwnedReplicas add(String node, long uid, int maxBytes) {
      OwnedReplicas core = new OwnedReplicas(node, uid, maxBytes, 2_000_000_000L);
      cores.put(node, core);
      return core;
    }

    OwnedReplicas.Outbox outbox() {
      return (to, message) -> queue.add(new Object[] {to.node(), message});
    }

    /** Delivers until no message is left. */
    void run() {
      while (!queue.isEmpty()) {
        Object[] next = queue.poll();
        ReplicaMessage message = (ReplicaMessage) next[1];
        OwnedReplicas to = cores.get((String) next[0]);
        if (to == null || drop.test(message)) {
          continue;
        }
        delivered.add(message);
        to.receive(message, outbox(), now);
      }
    }

    void connect(String a, long uidA, String b, long uidB) {
      cores.get(a).discover(new OwnedReplicas.Peer(b, uidB), outbox(), now);
      cores.get(b).discover(new OwnedReplicas.Peer(a, uidA), outbox(), now);
      run();
    }
  }

  private static ReplicaEntry entry(String key, String path) {
    return new ReplicaEntry(key, "p.Proto", path, 1000, 0);
  }

  /** What {@code core} holds of {@code key}: node -> paths. */
  private static Map<String, Set<String>> held(OwnedReplicas core, String key) {
    Map<String, Set<String>> result = new TreeMap<>();
    core.forEach(
        key, (node, e) -> result.computeIfAbsent(node, n -> new TreeSet<>()).add(e.path()));
    return result;
  }

  @Test
  void aPeerGetsAFullCopyOnConnectAndChangesAfterwards() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    a.put(entry("g", "/user/w1#1"));
    a.put(entry("g", "/user/w2#2"));
    a.flush(net.outbox()); // no peers yet: nothing to send
    net.connect("a", 1, "b", 2);
    assertEquals(Map.of("a", Set.of("/user/w1#1", "/user/w2#2")), held(b, "g"));

    b.takeDirty();
    a.put(entry("g", "/user/w3#3"));
    a.remove("g", "/user/w1#1");
    a.put(entry("h", "/user/w3#3"));
    a.flush(net.outbox());
    net.run();
    assertEquals(Map.of("a", Set.of("/user/w2#2", "/user/w3#3")), held(b, "g"));
    assertEquals(Map.of("a", Set.of("/user/w3#3")), held(b, "h"));
    assertEquals(Set.of("g", "h"), b.takeDirty());
    assertEquals(3, b.heldSize("a"));
    assertEquals(Set.of("a"), held(a, "g").keySet(), "b owns nothing: a lists only its own");
  }

  @Test
  void aChangeCarriesItsOriginsWallClockAndACopyDoesNot() {
    Net net = new Net();
    long[] wall = {5_000};
    OwnedReplicas a = new OwnedReplicas("a", 1, 64 * 1024, 2_000_000_000L, () -> wall[0]);
    net.cores.put("a", a);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    a.put(entry("g", "/user/before#1"));
    a.flush(net.outbox()); // no peers yet
    net.connect("a", 1, "b", 2);
    List<Long> origins = new ArrayList<>();
    OwnedReplicas.OriginSink sink =
        (stamps, count) -> {
          for (int i = 0; i < count; i++) {
            origins.add(stamps[i]);
          }
        };
    b.takeOrigins(sink);
    assertEquals(List.of(), origins, "a full copy is no change: no stamp");

    a.put(entry("g", "/user/w1#2")); // the batch's first change: its stamp
    wall[0] = 5_040;
    a.remove("g", "/user/before#1");
    a.flush(net.outbox());
    net.run();
    wall[0] = 5_100;
    a.put(entry("g", "/user/w2#3"));
    a.flush(net.outbox());
    net.run();
    b.takeOrigins(sink);
    assertEquals(List.of(5_000L, 5_100L), origins);
    origins.clear();
    b.takeOrigins(sink);
    assertEquals(List.of(), origins, "taken once");
  }

  @Test
  void aLostChangeIsHealedByAFullCopy() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    net.connect("a", 1, "b", 2);
    a.put(entry("g", "/user/lost#1"));
    a.flush(net.outbox());
    net.drop = m -> m instanceof ReplicaMessage.Entries;
    net.run(); // the change is lost
    net.drop = m -> false;
    a.put(entry("g", "/user/next#2"));
    a.flush(net.outbox());
    net.run(); // seq gap: b asks for a copy and gets both
    assertEquals(Map.of("a", Set.of("/user/lost#1", "/user/next#2")), held(b, "g"));
  }

  @Test
  void aLostLastChangeShowsInTheStatusTick() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    net.connect("a", 1, "b", 2);
    a.put(entry("g", "/user/lost#1"));
    a.flush(net.outbox());
    net.drop = m -> m instanceof ReplicaMessage.Entries;
    net.run();
    net.drop = m -> false;
    assertEquals(Map.of(), held(b, "g"));
    a.tick(net.outbox(), net.now);
    net.run();
    assertEquals(Map.of("a", Set.of("/user/lost#1")), held(b, "g"));
  }

  @Test
  void aLostRequestForACopyIsSentAgainAfterResyncAfter() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    a.put(entry("g", "/user/w#1"));
    net.drop = m -> m instanceof ReplicaMessage.SyncRequest;
    net.connect("a", 1, "b", 2);
    net.drop = m -> false;
    b.tick(net.outbox(), net.now); // too early: not asked again
    net.run();
    assertEquals(Map.of(), held(b, "g"));
    net.now += 3_000_000_000L;
    b.tick(net.outbox(), net.now);
    net.run();
    assertEquals(Map.of("a", Set.of("/user/w#1")), held(b, "g"));
  }

  @Test
  void aRemovedPeersEntriesGoAndItsLateMessagesAreIgnored() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    a.put(entry("g", "/user/w#1"));
    net.connect("a", 1, "b", 2);
    b.takeDirty();
    a.put(entry("g", "/user/late#2"));
    a.flush(net.outbox()); // in flight when b removes a
    assertEquals(1, b.removePeer("a", 1));
    assertEquals(Set.of("g"), b.takeDirty());
    net.run();
    a.tick(net.outbox(), net.now);
    net.run();
    assertEquals(Map.of(), held(b, "g"));
    assertEquals(-1, b.acked("a"));
  }

  @Test
  void aRestartedPeerAtTheSameAddressReplacesTheOldOne() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    a.put(entry("g", "/user/old#1"));
    net.connect("a", 1, "b", 2);
    OwnedReplicas a2 = net.add("a", 7, 64 * 1024); // same address, new incarnation
    a2.put(entry("g", "/user/new#9"));
    net.connect("a", 7, "b", 2);
    assertEquals(Map.of("a", Set.of("/user/new#9")), held(b, "g"));
  }

  @Test
  void aLargeCopyIsSplitIntoMessagesBelowTheByteLimit() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 16 * 1024);
    OwnedReplicas b = net.add("b", 2, 16 * 1024);
    for (int i = 0; i < 10_000; i++) {
      a.put(entry("group-" + (i % 100), "/user/workers/worker-" + i + "#" + (1_000_000 + i)));
    }
    net.connect("a", 1, "b", 2);
    int copies = 0;
    for (ReplicaMessage m : net.delivered) {
      if (m instanceof ReplicaMessage.Entries e && e.isSync() && e.from().equals("a")) {
        copies++;
        int bytes = 0;
        for (String s : e.paths()) {
          bytes += s.length() + 24;
        }
        for (String s : e.keys()) {
          bytes += s.length();
        }
        assertTrue(bytes <= 16 * 1024, "part " + e.part() + " carries " + bytes + " bytes");
      }
    }
    assertTrue(copies > 10, "a copy of 10,000 entries in " + copies + " parts");
    assertEquals(10_000, b.heldSize("a"));
    assertEquals(100, held(b, "group-7").get("a").size());
  }

  @Test
  void anUnchangedEntryKeepsItsCachedViewAcrossACopy() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    a.put(entry("g", "/user/w#1"));
    net.connect("a", 1, "b", 2);
    List<ReplicaEntry> seen = new ArrayList<>();
    b.forEach("g", (node, e) -> seen.add(e));
    seen.get(0).view = "cached";
    b.takeDirty();
    b.requestCopy(new OwnedReplicas.Peer("a", 1), net.outbox(), net.now);
    net.run();
    List<ReplicaEntry> after = new ArrayList<>();
    b.forEach("g", (node, e) -> after.add(e));
    assertEquals("cached", after.get(0).view);
    assertEquals(Set.of(), b.takeDirty(), "an identical copy changes no key");
    assertEquals(Set.of("a"), b.takeCompletedSyncs());
  }

  @Test
  void aPeersChangesAreRecordedAsTheEntriesAddedRemovedAndDropped() {
    Net net = new Net();
    OwnedReplicas a = net.add("a", 1, 64 * 1024);
    OwnedReplicas b = net.add("b", 2, 64 * 1024);
    a.put(entry("g", "/user/w1#1"));
    net.connect("a", 1, "b", 2);
    assertTrue(b.takeChanges().get("g").full(), "a first copy rebuilds the key");
    ReplicaEntry w1 = only(b, "g");

    a.put(entry("g", "/user/w1#1")); // the same data again: nothing changes on b
    a.put(entry("g", "/user/w2#2"));
    a.flush(net.outbox());
    net.run();
    ReplicaChanges.Change change = b.takeChanges().get("g");
    assertFalse(change.full());
    assertEquals(List.of(), change.removed(), "an unchanged entry is not replaced");
    assertEquals(1, change.added().size());
    ReplicaEntry w2 = change.added().keySet().iterator().next();
    assertEquals("/user/w2#2", w2.path());
    assertEquals("a", change.added().get(w2));
    assertSame(w1, entryAt(b, "g", "/user/w1#1"), "the held entry, with its caches, is kept");

    a.put(entry("g", "/user/w2#2").withExtra(1)); // drained: replaced
    a.remove("g", "/user/w1#1");
    a.flush(net.outbox());
    net.run();
    change = b.takeChanges().get("g");
    assertEquals(2, change.removed().size());
    assertTrue(change.removed().contains(w1) && change.removed().contains(w2), "by identity");
    assertEquals(List.of("a", "a"), change.removedNodes());
    assertEquals(1, change.added().keySet().iterator().next().extra());

    b.removePeer("a", 1);
    change = b.takeChanges().get("g");
    assertEquals(Set.of("a"), change.droppedNodes());
    assertTrue(change.added().isEmpty());
  }

  private static ReplicaEntry entryAt(OwnedReplicas core, String key, String path) {
    List<ReplicaEntry> found = new ArrayList<>();
    core.forEach(
        key,
        (node, e) -> {
          if (e.path().equals(path)) {
            found.add(e);
          }
        });
    assertEquals(1, found.size());
    return found.get(0);
  }

  private static ReplicaEntry only(OwnedReplicas core, String key) {
    List<ReplicaEntry> found = new ArrayList<>();
    core.forEach(key, (node, e) -> found.add(e));
    assertEquals(1, found.size());
    return found.get(0);
  }

  @Test
  void aByteLimitBelowOneKibibyteIsRefused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new OwnedReplicas("a", 1, 10, 1));
    assertTrue(e.getMessage().contains("10"), e.getMessage());
  }
}
