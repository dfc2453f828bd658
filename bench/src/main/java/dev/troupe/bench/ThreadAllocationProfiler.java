package dev.troupe.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler for the bytes allocated per operation by the benchmark's own threads (JMH's
 * workers, named {@code …-jmh-worker-N}), as the secondary metric {@value #METRIC} in B/op: {@code
 * -prof dev.troupe.bench.ThreadAllocationProfiler}.
 *
 * <p>JMH's gc profiler ({@code -prof gc}, {@code gc.alloc.rate.norm}) divides what every thread of
 * the JVM allocated by the operations. With a Troupe node in the JVM that includes its actors,
 * timers and replication, which at 100,000 entries allocate tens of MB/s while the benchmark runs;
 * a read that allocates nothing then shows several bytes per call. This profiler reads {@code
 * com.sun.management.ThreadMXBean#getThreadAllocatedBytes} of the worker threads only, before and
 * after each iteration. A worker that first appears during an iteration (the first one) counts from
 * zero, so that iteration also holds the trial's {@code @Setup}, which JMH runs on the worker: it
 * is a warm-up iteration unless warm-up is off.
 */
public final class ThreadAllocationProfiler implements InternalProfiler {
  /** The name of the secondary metric. */
  public static final String METRIC = "thread.alloc.norm";

  private static final String WORKER = "-jmh-worker-";

  private final com.sun.management.ThreadMXBean threads =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private Map<Long, Long> before = Map.of();

  /** Called by JMH for {@code -prof dev.troupe.bench.ThreadAllocationProfiler}. */
  public ThreadAllocationProfiler() {
    if (!threads.isThreadAllocatedMemorySupported()) {
      throw new IllegalStateException("this JVM does not measure the memory a thread allocates");
    }
    threads.setThreadAllocatedMemoryEnabled(true);
  }

  @Override
  public String getDescription() {
    return "Bytes allocated per operation by the benchmark's worker threads only";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    before = workerAllocations();
  }

  @Override
  public Collection<? extends Result> afterIteration(
      BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
    long bytes = 0;
    for (Map.Entry<Long, Long> worker : workerAllocations().entrySet()) {
      bytes += worker.getValue() - before.getOrDefault(worker.getKey(), 0L);
    }
    long operations = result.getMetadata().getAllOps();
    double perOperation = operations == 0 ? Double.NaN : (double) bytes / operations;
    return List.of(new ScalarResult(METRIC, perOperation, "B/op", AggregationPolicy.AVG));
  }

  /** Allocated bytes by thread id, of the live JMH worker threads. */
  private Map<Long, Long> workerAllocations() {
    Map<Long, Long> allocations = new HashMap<>();
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds(), 0)) {
      if (info != null && info.getThreadName().contains(WORKER)) {
        long allocated = threads.getThreadAllocatedBytes(info.getThreadId());
        if (allocated >= 0) {
          allocations.put(info.getThreadId(), allocated);
        }
      }
    }
    return allocations;
  }
}
