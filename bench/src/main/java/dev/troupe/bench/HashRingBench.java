package dev.troupe.bench;

import dev.troupe.bench.PerformanceReport.Baseline;
import dev.troupe.bench.PerformanceReport.Goal;
import dev.troupe.bench.baseline.TreeMapRing;
import dev.troupe.core.HashRing;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of {@link HashRing#pick(String)}, single thread, against the classic {@link
 * TreeMapRing} measured in the same run on the same keys and members.
 *
 * <p>Keys are 1024 pre-generated strings cycled with an index: {@code "user-123456"} ({@code
 * keys=ascii}, the fast path that hashes the string in place) or {@code "usér-123456"} ({@code
 * keys=utf8}, hashed through its UTF-8 bytes). Members look like node addresses.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class HashRingBench {
  private static final int KEY_MASK = 1023;

  @Param({"5", "50"})
  public int members;

  @Param({"ascii", "utf8"})
  public String keys;

  private String[] keyArray;
  private int next;
  private HashRing ring;
  private TreeMapRing treeMapRing;

  @Setup
  public void setUp() {
    Random random = new Random(42);
    List<String> nodes = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      nodes.add("pekko://troupe@10.0." + (i / 250) + "." + (i % 250 + 1) + ":25520");
    }
    ring = HashRing.of(nodes);
    treeMapRing = new TreeMapRing(nodes, HashRing.REPLICATION_FACTOR);
    String prefix = keys.equals("ascii") ? "user-" : "usér-";
    keyArray = new String[KEY_MASK + 1];
    for (int i = 0; i < keyArray.length; i++) {
      keyArray[i] = prefix + (100_000 + random.nextInt(900_000));
    }
  }

  /** {@code HashRing.pick(key)}: hash, partition, owner-table lookup. */
  @Benchmark
  @Baseline("treeMapRingPick")
  @Goal(atLeast = 10_000_000, label = "≥ 10 M picks/s")
  public String hashRingPick() {
    return ring.pick(keyArray[next++ & KEY_MASK]);
  }

  /** The baseline: {@code TreeMap<Long, String>.ceilingEntry} on the same xxHash64. */
  @Benchmark
  public String treeMapRingPick() {
    return treeMapRing.pick(keyArray[next++ & KEY_MASK]);
  }
}
