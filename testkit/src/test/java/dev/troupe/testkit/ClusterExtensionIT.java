package dev.troupe.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.troupe.core.TroupeNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * {@link ClusterExtension} run by the JUnit engine on small test classes: when the cluster starts,
 * that it is shared or private as its field says, and that nothing runs after the tests.
 */
final class ClusterExtensionIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** The clusters the test classes below saw, in the order their tests ran. */
  static final List<TestCluster> SEEN = new CopyOnWriteArrayList<>();

  static final List<ProcessCluster> SEEN_PROCESSES = new CopyOnWriteArrayList<>();

  /**
   * The classes below run only when a test here runs them through the engine, not when Failsafe
   * finds them on its own (one of them fails on purpose).
   */
  private static final String IN_ENGINE_KIT = "dev.troupe.testkit.ClusterExtensionIT#inEngineKit";

  private static volatile boolean inEngineKit;

  static boolean inEngineKit() {
    return inEngineKit;
  }

  /** Registered on a static field: one cluster for both tests. */
  @EnabledIf(IN_ENGINE_KIT)
  static final class SharedCluster {
    @RegisterExtension
    static final ClusterExtension<TestCluster> cluster = ClusterExtension.inJvm(2);

    @Test
    void first() {
      SEEN.add(cluster.get());
      assertEquals(2, TestCluster.upMembers(cluster.get().node(0)).size());
    }

    @Test
    void second() {
      SEEN.add(cluster.get());
      assertEquals(2, TestCluster.upMembers(cluster.get().node(1)).size());
    }
  }

  /** Registered on an instance field: a cluster of its own for each test. */
  @EnabledIf(IN_ENGINE_KIT)
  static final class ClusterPerTest {
    @RegisterExtension
    final ClusterExtension<TestCluster> cluster =
        ClusterExtension.inJvm(1, "troupe.core.close-timeout = 10s");

    @Test
    void first() {
      SEEN.add(cluster.get());
    }

    @Test
    void second() {
      SEEN.add(cluster.get());
    }
  }

  /** A starter that fails: the test fails with its error and does not run. */
  @EnabledIf(IN_ENGINE_KIT)
  static final class FailingStart {
    @RegisterExtension
    static final ClusterExtension<TestCluster> cluster =
        ClusterExtension.of(
            () -> {
              throw new IllegalStateException("no cluster today");
            });

    @Test
    void neverRuns() {
      SEEN.add(cluster.get());
    }
  }

  /** Child JVMs for the class. */
  @EnabledIf(IN_ENGINE_KIT)
  static final class Processes {
    @RegisterExtension
    static final ClusterExtension<ProcessCluster> cluster =
        ClusterExtension.processes(ProcessCluster.builder().size(1));

    @Test
    void alive() {
      SEEN_PROCESSES.add(cluster.get());
      assertTrue(cluster.get().node(0).isAlive());
    }
  }

  private static EngineExecutionResults execute(Class<?> testClass) {
    inEngineKit = true;
    try {
      return EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute();
    } finally {
      inEngineKit = false;
    }
  }

  private static Events run(Class<?> testClass) {
    return execute(testClass).testEvents();
  }

  private static void assertTerminated(TestCluster cluster) {
    for (TroupeNode node : cluster.nodes()) {
      Stages.await(node.system().getWhenTerminated(), TIMEOUT);
    }
  }

  @Test
  void aStaticFieldSharesOneClusterAcrossTheClassAndClosesItAfterTheLastTest() {
    SEEN.clear();
    run(SharedCluster.class).assertStatistics(stats -> stats.started(2).succeeded(2));
    assertEquals(2, SEEN.size());
    assertSame(SEEN.get(0), SEEN.get(1));
    assertTerminated(SEEN.get(0));
    assertThrows(IllegalStateException.class, SharedCluster.cluster::get);
  }

  @Test
  void anInstanceFieldGivesEveryTestAClusterOfItsOwn() {
    SEEN.clear();
    run(ClusterPerTest.class).assertStatistics(stats -> stats.started(2).succeeded(2));
    assertEquals(2, SEEN.size());
    assertNotSame(SEEN.get(0), SEEN.get(1));
    assertTerminated(SEEN.get(0));
    assertTerminated(SEEN.get(1));
  }

  @Test
  void aStarterThatFailsFailsTheTestsWithItsError() {
    SEEN.clear();
    EngineExecutionResults results = execute(FailingStart.class);
    assertTrue(SEEN.isEmpty());
    assertEquals(0, results.testEvents().started().count());
    Throwable error =
        results.containerEvents().failed().stream()
            .map(e -> e.getPayload(TestExecutionResult.class).orElseThrow())
            .map(result -> result.getThrowable().orElseThrow())
            .findFirst()
            .orElseThrow(() -> new AssertionError("the class did not fail"));
    assertEquals("no cluster today", error.getMessage());
    assertThrows(IllegalStateException.class, FailingStart.cluster::get);
  }

  @Test
  void aProcessClusterRunsForTheClassAndItsChildrenAreGoneAfterwards() {
    SEEN_PROCESSES.clear();
    run(Processes.class).assertStatistics(stats -> stats.started(1).succeeded(1));
    ProcessCluster cluster = SEEN_PROCESSES.get(0);
    assertFalse(cluster.node(0).isAlive(), "the child JVM must be gone after the class");
  }

  @Test
  void badArgumentsAreRefusedWithTheValue() {
    IllegalArgumentException size =
        assertThrows(IllegalArgumentException.class, () -> ClusterExtension.inJvm(0));
    assertTrue(size.getMessage().contains("0"), size.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ClusterExtension.inJvm(1, null));
    assertThrows(IllegalArgumentException.class, () -> ClusterExtension.processes(null));
    assertThrows(IllegalArgumentException.class, () -> ClusterExtension.of(null));
  }
}
