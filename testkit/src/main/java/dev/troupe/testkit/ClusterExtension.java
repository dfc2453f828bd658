package dev.troupe.testkit;

import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A JUnit 5 extension that starts a cluster before the tests and closes it after them: a {@link
 * TestCluster} of nodes in the test's JVM, a {@link ProcessCluster} of child JVMs, or anything a
 * supplier starts.
 *
 * <pre>{@code
 * final class InventoryIT {
 *   @RegisterExtension
 *   static final ClusterExtension<TestCluster> cluster = ClusterExtension.inJvm(3);
 *
 *   @Test
 *   void everyNodeSeesTheWorker() {
 *     TroupeNode first = cluster.get().node(0);
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>Registered on a {@code static} field (or on an instance field of a {@code PER_CLASS} test
 * class) the cluster is started once, before the first test, and closed after the last; on an
 * instance field of an ordinary test class every test gets a cluster of its own. If starting fails,
 * the tests fail with that error and nothing is left running. When a test of a {@link
 * ProcessCluster} fails, the extension prints where the children's logs are.
 *
 * @param <C> the kind of cluster
 */
public final class ClusterExtension<C extends AutoCloseable>
    implements BeforeAllCallback,
        AfterAllCallback,
        BeforeEachCallback,
        AfterEachCallback,
        TestWatcher {
  private final Supplier<? extends C> starter;
  private C cluster;
  private boolean perClass;

  /**
   * Where the last started {@link ProcessCluster} logs; kept for a failure reported after close.
   */
  private Path logDir;

  private ClusterExtension(Supplier<? extends C> starter) {
    this.starter = starter;
  }

  /** {@code size} nodes in the test's JVM, with {@link TestCluster#TEST_CONFIG}'s timings. */
  public static ClusterExtension<TestCluster> inJvm(int size) {
    return inJvm(size, "");
  }

  /** {@code size} nodes in the test's JVM, with {@code config} (HOCON) above the test timings. */
  public static ClusterExtension<TestCluster> inJvm(int size, String config) {
    if (size < 1) {
      throw new IllegalArgumentException("cluster size must be >= 1, got: " + size);
    }
    if (config == null) {
      throw new IllegalArgumentException("config must not be null (use \"\" for none)");
    }
    return new ClusterExtension<>(() -> TestCluster.start(size, config));
  }

  /**
   * Child JVMs as {@code builder} describes them, started by {@link ProcessCluster.Builder#start}.
   */
  public static ClusterExtension<ProcessCluster> processes(ProcessCluster.Builder builder) {
    if (builder == null) {
      throw new IllegalArgumentException("builder must not be null");
    }
    return new ClusterExtension<>(builder::start);
  }

  /**
   * Whatever {@code starter} returns; it must return a started cluster (and close what it started
   * if it throws).
   */
  public static <C extends AutoCloseable> ClusterExtension<C> of(Supplier<? extends C> starter) {
    if (starter == null) {
      throw new IllegalArgumentException("starter must not be null");
    }
    return new ClusterExtension<>(starter);
  }

  /**
   * The running cluster.
   *
   * @throws IllegalStateException outside the tests of the class that registered the extension
   */
  public C get() {
    if (cluster == null) {
      throw new IllegalStateException(
          "the cluster runs only during the tests: register this ClusterExtension with"
              + " @RegisterExtension and call get() from a test or @BeforeEach method");
    }
    return cluster;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    perClass = true;
    start();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (cluster == null) {
      start();
    }
  }

  private void start() {
    cluster = starter.get();
    if (cluster instanceof ProcessCluster processes) {
      logDir = processes.logDir().toAbsolutePath();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    if (!perClass) {
      closeCluster();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    closeCluster();
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    if (logDir != null) {
      System.err.println(context.getDisplayName() + " failed; node logs in " + logDir);
    }
  }

  private void closeCluster() throws Exception {
    C running = cluster;
    cluster = null;
    if (running != null) {
      running.close();
    }
  }
}
