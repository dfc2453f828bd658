package dev.troupe.testkit;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Several {@link TroupeNode}s in one JVM on 127.0.0.1 with port 0: start N, wait until all see all
 * Up, stop one gracefully, or crash one.
 *
 * <pre>{@code
 * try (TestCluster cluster = TestCluster.start(3)) {
 *   TroupeNode first = cluster.node(0);
 *   cluster.crash(2);            // others see it unreachable, SBR downs it, it is removed
 * }
 * }</pre>
 *
 * <p>Nodes get {@link #TEST_CONFIG}: short Split Brain Resolver and failure-detector timings, so
 * crash tests finish in seconds. These settings are for tests only; Troupe's {@code reference.conf}
 * keeps production defaults.
 *
 * <p>Indices are stable: a node that left or crashed keeps its index (and {@link #isLive(int)}
 * turns false); nodes added later get the next index.
 */
public final class TestCluster implements AutoCloseable {
  /** Test timings: SBR acts after 3 s of stable membership; failures are noticed in ~3 s. */
  public static final String TEST_CONFIG =
      String.join(
          "\n",
          "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
          "pekko.cluster.split-brain-resolver.stable-after = 3s",
          "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s",
          "pekko.cluster.failure-detector.heartbeat-interval = 500ms",
          // A crash is system.terminate() without leaving: CoordinatedShutdown must not run then.
          "pekko.coordinated-shutdown.run-by-actor-system-terminate = off",
          "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
          "pekko.cluster.run-coordinated-shutdown-when-down = on",
          "pekko.log-dead-letters = off",
          "pekko.remote.artery.advanced.outbound-control-queue-size = 20000",
          "troupe.core.close-timeout = 30s");

  /** How long the kit waits for membership to converge. */
  public static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(45);

  private final String extraConfig;
  private final IntFunction<MeterRegistry> meterRegistries; // by node index; null: none
  private final List<TroupeNode> nodes = new ArrayList<>();
  private final Set<Integer> stopped = new HashSet<>();

  private TestCluster(String extraConfig, IntFunction<MeterRegistry> meterRegistries) {
    this.extraConfig = extraConfig;
    this.meterRegistries = meterRegistries;
  }

  /** Starts {@code size} nodes and waits until every node sees all of them Up. */
  public static TestCluster start(int size) {
    return start(size, "");
  }

  /**
   * Starts {@code size} nodes with {@code extraConfig} (HOCON, above {@link #TEST_CONFIG}) and
   * waits until every node sees all of them Up.
   */
  public static TestCluster start(int size, String extraConfig) {
    return start(size, extraConfig, null);
  }

  /**
   * Like {@link #start(int, String)}, each node passing Troupe's meters to {@code
   * meterRegistries.apply(index)} ({@code NodeOptions.Builder.meterRegistry}; null: none), also the
   * nodes added later.
   */
  public static TestCluster start(
      int size, String extraConfig, IntFunction<MeterRegistry> meterRegistries) {
    if (size < 1) {
      throw new IllegalArgumentException("TestCluster size must be >= 1, got: " + size);
    }
    TestCluster cluster = new TestCluster(extraConfig, meterRegistries);
    try {
      for (int i = 0; i < size; i++) {
        cluster.startNodeNoWait("");
      }
      cluster.awaitConverged();
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** Starts one more node that joins the cluster, and waits until every node sees it Up. */
  public TroupeNode addNode() {
    return addNode("");
  }

  /** Like {@link #addNode()} with per-node HOCON (e.g. roles), above the cluster's config. */
  public TroupeNode addNode(String nodeConfig) {
    TroupeNode node = startNodeNoWait(nodeConfig);
    awaitConverged();
    return node;
  }

  private TroupeNode startNodeNoWait(String nodeConfig) {
    int index = nodes.size();
    List<String> seeds =
        liveNodes().isEmpty() ? List.of() : List.of(liveNodes().get(0).address().toString());
    TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder()
                .name("node-" + index)
                .host("127.0.0.1")
                .port(0)
                .seedNodes(seeds)
                .meterRegistry(meterRegistries == null ? null : meterRegistries.apply(index))
                // Later keys win in HOCON: the test's own settings above the kit's timings.
                .config(TEST_CONFIG + "\n" + extraConfig + "\n" + nodeConfig)
                .build());
    nodes.add(node);
    return node;
  }

  /** The node at {@code index} (also after it stopped). */
  public TroupeNode node(int index) {
    return nodes.get(index);
  }

  /** Every node ever started, by index. */
  public List<TroupeNode> nodes() {
    return List.copyOf(nodes);
  }

  /** The nodes that have not left or crashed, in index order. */
  public List<TroupeNode> liveNodes() {
    List<TroupeNode> live = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (!stopped.contains(i)) {
        live.add(nodes.get(i));
      }
    }
    return live;
  }

  /** Whether the node at {@code index} still runs. */
  public boolean isLive(int index) {
    return !stopped.contains(index);
  }

  /** Waits until every live node sees exactly the live nodes as Up members, all reachable. */
  public void awaitConverged() {
    Set<Address> expected = liveNodes().stream().map(TroupeNode::address).collect(toSet());
    for (TroupeNode node : liveNodes()) {
      Eventually.awaitAssert(
          CONVERGE_TIMEOUT,
          "node " + node.name() + " to see Up members " + expected,
          () -> {
            Set<Address> up = upMembers(node);
            if (!up.equals(expected) || !unreachable(node).isEmpty()) {
              throw new AssertionError(
                  node.name() + " sees Up " + up + ", unreachable " + unreachable(node));
            }
          });
    }
  }

  /**
   * Leaves gracefully (CoordinatedShutdown) and waits until the node has terminated and every other
   * live node sees it removed.
   */
  public void leave(int index) {
    TroupeNode node = nodes.get(index);
    stopped.add(index);
    try {
      node.leave().toCompletableFuture().get(CONVERGE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("node " + node.name() + " did not leave in " + CONVERGE_TIMEOUT, e);
    }
    awaitRemoved(node.address());
  }

  /**
   * Crashes a node: terminates its actor system without leaving, so the others see it unreachable,
   * the Split Brain Resolver downs it, and it is removed. Waits for the removal.
   */
  public void crash(int index) {
    crashNoWait(index);
    awaitRemoved(nodes.get(index).address());
  }

  /** Like {@link #crash(int)} but returns as soon as the node is gone, before it is removed. */
  public void crashNoWait(int index) {
    TroupeNode node = nodes.get(index);
    stopped.add(index);
    node.system().terminate();
    try {
      node.system()
          .getWhenTerminated()
          .toCompletableFuture()
          .get(CONVERGE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("node " + node.name() + " did not terminate", e);
    }
  }

  /** Waits until no live node lists {@code address} as a member any more. */
  public void awaitRemoved(Address address) {
    for (TroupeNode node : liveNodes()) {
      Eventually.awaitAssert(
          CONVERGE_TIMEOUT,
          "node " + node.name() + " to see " + address + " removed",
          () -> {
            boolean present = allMembers(node).stream().anyMatch(m -> m.address().equals(address));
            if (present) {
              throw new AssertionError(node.name() + " still lists " + address);
            }
          });
    }
  }

  /** The Up members {@code node} sees. */
  public static Set<Address> upMembers(TroupeNode node) {
    return allMembers(node).stream()
        .filter(m -> m.status().equals(MemberStatus.up()))
        .map(Member::address)
        .collect(toSet());
  }

  /** Every member {@code node} sees, whatever its status (Joining ... Exiting, Down). */
  public static Set<Address> allMemberAddresses(TroupeNode node) {
    return allMembers(node).stream().map(Member::address).collect(toSet());
  }

  private static Set<Address> unreachable(TroupeNode node) {
    return Cluster.get(node.system()).state().getUnreachable().stream()
        .map(Member::address)
        .collect(toSet());
  }

  private static List<Member> allMembers(TroupeNode node) {
    List<Member> members = new ArrayList<>();
    Cluster.get(node.system()).state().getMembers().forEach(members::add);
    return members;
  }

  private static <T> java.util.stream.Collector<T, ?, Set<T>> toSet() {
    return Collectors.toCollection(HashSet::new);
  }

  /** Stops every live node: gracefully, in reverse order of start. */
  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      if (stopped.add(i)) {
        TroupeNode node = nodes.get(i);
        node.system().terminate();
      }
    }
    for (TroupeNode node : nodes) {
      try {
        node.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        // A node that does not terminate in time must not hide the test's own result.
      }
    }
  }
}
