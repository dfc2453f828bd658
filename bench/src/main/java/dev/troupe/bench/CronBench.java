package dev.troupe.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.Cron;
import dev.troupe.cron.CronJob;
import dev.troupe.cron.CronTick;
import dev.troupe.testkit.TestCluster;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The cron scheduler's figures.
 *
 * <ul>
 *   <li><b>Lateness</b>: 100 jobs firing every second on an idle 3-node cluster (in one JVM, H2 in
 *       memory); a tick's lateness is the wall-clock time from its scheduled instant until its
 *       target (on the job's ring owner) runs. Baseline: a JDK ScheduledThreadPoolExecutor in the
 *       same JVM firing the same 100 instants per second, measured the same way, in the same run.
 *   <li><b>CPU</b>: one node with 10,000 idle jobs (they fire once a year): the process CPU time
 *       over a window, against the same node before the jobs were scheduled.
 *   <li><b>Claim cost</b>: {@code triggerNow} round trips on one node (ask the scheduler, insert
 *       the claim row, reply) on H2 and on PostgreSQL (if reachable).
 * </ul>
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.troupe.bench.CronBench [--seconds 60]
 *       [--warmup 10] [--idle-jobs 10000] [--cpu-seconds 60] [--claims 2000] [--output f]
 * </pre>
 */
public final class CronBench {
  private static final WorkerGroup<CronTick> TICKS = WorkerGroup.of("bench-ticks", CronTick.class);
  private static final int JOBS = 100;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** Lateness in microseconds of the ticks the targets received during the measurement. */
  private static final Queue<long[]> RECEIVED = new ConcurrentLinkedQueue<>();

  private CronBench() {}

  public static void main(String[] args) throws Exception {
    int seconds = 60;
    int warmup = 10;
    int idleJobs = 10_000;
    int cpuSeconds = 60;
    int claims = 2000;
    int nodes = 3;
    Path output = Path.of("bench/results/cron.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Figures.intOption(args, ++i, "--seconds", 5);
        case "--warmup" -> warmup = Figures.intOption(args, ++i, "--warmup", 0);
        case "--idle-jobs" -> idleJobs = Figures.intOption(args, ++i, "--idle-jobs", 1);
        case "--cpu-seconds" -> cpuSeconds = Figures.intOption(args, ++i, "--cpu-seconds", 5);
        case "--nodes" -> nodes = Figures.intOption(args, ++i, "--nodes", 1);
        case "--claims" -> claims = Figures.intOption(args, ++i, "--claims", 10);
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        default -> throw new IllegalArgumentException("unknown option: " + args[i]);
      }
    }
    List<Map<String, Object>> tables = new ArrayList<>();
    Map<String, Object> data = new LinkedHashMap<>();
    tables.add(lateness(nodes, seconds, warmup, data));
    tables.add(cpu(idleJobs, cpuSeconds, data));
    tables.add(claimCost(claims, data));
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("jobs", JOBS);
    parameters.put("nodes", nodes);
    parameters.put("seconds", seconds);
    parameters.put("warmup", warmup);
    parameters.put("idleJobs", idleJobs);
    parameters.put("cpuSeconds", cpuSeconds);
    parameters.put("claims", claims);
    parameters.put("cpus", Runtime.getRuntime().availableProcessors());
    Figures.write(output, CronBench.class, parameters, tables, data);
    System.out.println("Cron figures written to " + output);
    System.exit(0);
  }

  private static long micros(Instant from, Instant to) {
    return Duration.between(from, to).toNanos() / 1000;
  }

  private static void startTargets(TroupeNode node) {
    ActorRef<CronTick> target =
        node.system()
            .systemActorOf(
                Behaviors.receiveMessage(
                    (CronTick tick) -> {
                      RECEIVED.add(
                          new long[] {
                            tick.scheduledAt().toEpochMilli(),
                            micros(tick.scheduledAt(), Instant.now())
                          });
                      return Behaviors.same();
                    }),
                "bench-ticks",
                Props.empty());
    node.registry().register(TICKS, target).toCompletableFuture().join();
    Cron.get(node);
  }

  // ---- lateness -------------------------------------------------------------------------------

  private static Map<String, Object> lateness(
      int nodes, int seconds, int warmup, Map<String, Object> data) throws Exception {
    System.out.println(
        "==> lateness: " + JOBS + " jobs every second on 3 nodes, " + seconds + " s");
    String url = "jdbc:h2:mem:cron_bench_" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    try (TestCluster cluster = TestCluster.start(nodes, "troupe.storage.url = \"" + url + "\"")) {
      cluster.liveNodes().forEach(CronBench::startTargets);
      Cron cron = Cron.get(cluster.node(0));
      List<CompletableFuture<?>> scheduled = new ArrayList<>();
      for (int i = 0; i < JOBS; i++) {
        scheduled.add(
            cron.schedule(
                    CronJob.builder("bench-" + i).spec("* * * * * *").targetGroup(TICKS).build())
                .toCompletableFuture());
      }
      CompletableFuture.allOf(scheduled.toArray(CompletableFuture[]::new))
          .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

      // The JDK baseline fires the same instants in the same JVM.
      ScheduledThreadPoolExecutor jdk = new ScheduledThreadPoolExecutor(1);
      Queue<Long> jdkLateness = new ConcurrentLinkedQueue<>();
      long start = (System.currentTimeMillis() / 1000 + 2 + warmup) * 1000;
      long end = start + seconds * 1000L;
      for (long at = start; at < end; at += 1000) {
        Instant instant = Instant.ofEpochMilli(at);
        for (int j = 0; j < JOBS; j++) {
          long delay = micros(Instant.now(), instant);
          jdk.schedule(
              () -> jdkLateness.add(micros(instant, Instant.now())), delay, TimeUnit.MICROSECONDS);
        }
      }
      while (System.currentTimeMillis() < end + 3000) {
        Thread.sleep(500); // the measurement runs by the clock; nothing to wait for but time
      }
      jdk.shutdownNow();

      long[] troupe =
          RECEIVED.stream().filter(r -> r[0] >= start && r[0] < end).mapToLong(r -> r[1]).toArray();
      long[] baseline = jdkLateness.stream().mapToLong(Long::longValue).toArray();
      long expected = (long) JOBS * seconds;
      data.put("latenessMicrosTroupe", troupe);
      data.put("latenessMicrosJdk", baseline);
      List<List<Object>> rows = new ArrayList<>();
      rows.add(
          latenessRow(
              "Troupe cron (claim on H2, tick to a group member on the ring owner)",
              troupe,
              baseline,
              expected,
              true));
      rows.add(
          latenessRow(
              "Baseline: JDK ScheduledThreadPoolExecutor, same instants",
              baseline,
              baseline,
              expected,
              false));
      return Figures.table(
          "Fire lateness: " + JOBS + " jobs every second",
          "An idle 3-node cluster in one JVM (H2 in memory for claims and the lease); "
              + JOBS
              + " CLUSTER jobs `* * * * * *` targeting a worker group with a member on every node,"
              + " so each tick is delivered on its job's ring owner. Lateness: from the scheduled"
              + " instant to the target's receive, wall clock in microseconds. The baseline"
              + " ScheduledThreadPoolExecutor fires the same instants in the same JVM during the"
              + " same "
              + seconds
              + " s (after "
              + warmup
              + " s of warm-up). × JDK: the baseline's p99 ÷ the row's p99. Goal: p99 ≤ 2× the"
              + " JDK executor's.",
          List.of(
              "Timer",
              "Ticks (expected)",
              "p50 ms",
              "p99 ms",
              "max ms",
              "× JDK (p99)",
              "Goal",
              "Met"),
          rows);
    }
  }

  private static List<Object> latenessRow(
      String what, long[] values, long[] baseline, long expected, boolean goal) {
    long p50 = Figures.percentile(values, 50);
    long p99 = Figures.percentile(values, 99);
    long max = Figures.percentile(values, 100);
    long baseP99 = Figures.percentile(baseline, 99);
    double ratio = (double) Math.max(baseP99, 1) / Math.max(p99, 1);
    System.out.printf(
        "    %s: %d ticks, p50 %d us, p99 %d us, max %d us%n", what, values.length, p50, p99, max);
    return List.of(
        what,
        Figures.count(values.length) + " (" + Figures.count(expected) + ")",
        Figures.ms(p50 * 1000),
        Figures.ms(p99 * 1000),
        Figures.ms(max * 1000),
        Figures.times(ratio),
        goal ? "p99 ≤ 2× JDK" : "—",
        goal ? (p99 <= 2 * baseP99 ? "met" : "**not met**") : "—");
  }

  // ---- CPU with idle jobs ---------------------------------------------------------------------

  private static Map<String, Object> cpu(int idleJobs, int cpuSeconds, Map<String, Object> data)
      throws Exception {
    System.out.println(
        "==> CPU: one node, then " + idleJobs + " idle jobs, " + cpuSeconds + " s each");
    String url = "jdbc:h2:mem:cron_cpu_" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder().config("troupe.storage.url = \"" + url + "\"").build())) {
      node.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      startTargets(node);
      Cron cron = Cron.get(node);
      cron.jobs().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS); // scheduler up
      double without = cpuShare(os, cpuSeconds);
      for (int i = 0; i < idleJobs; i += 100) {
        List<CompletableFuture<?>> batch = new ArrayList<>();
        for (int j = i; j < Math.min(idleJobs, i + 100); j++) {
          // once a year, at spread minutes of 1 January: idle during the measurement
          batch.add(
              cron.schedule(
                      CronJob.builder("idle-" + j)
                          .spec((j % 60) + " " + (j / 60 % 24) + " 1 1 *")
                          .targetGroup(TICKS)
                          .build())
                  .toCompletableFuture());
        }
        CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new))
            .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
      int listed =
          cron.jobs().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).size();
      System.gc();
      double with = cpuShare(os, cpuSeconds);
      double scheduler = Math.max(0, with - without);
      data.put("cpuShareWithout", without);
      data.put("cpuShareWith", with);
      System.out.printf(
          "    CPU without jobs %.3f %%, with %d jobs %.3f %%%n",
          without * 100, listed, with * 100);
      List<List<Object>> rows = new ArrayList<>();
      rows.add(
          List.of(
              "Node without jobs (cluster, registry, lease heartbeats)",
              "0",
              percentOfCore(without),
              "—",
              "—"));
      rows.add(
          List.of(
              "Node with " + Figures.count(listed) + " idle jobs",
              Figures.count(listed),
              percentOfCore(with),
              "—",
              "—"));
      rows.add(
          List.of(
              "Difference: the scheduler's share",
              Figures.count(listed),
              percentOfCore(scheduler),
              "≤ 1 % of a core",
              scheduler <= 0.01 ? "met" : "**not met**"));
      return Figures.table(
          "Scheduler CPU with " + Figures.count(idleJobs) + " idle jobs",
          "One embedded node (H2 in memory), the scheduler on it; the jobs fire once a year, so"
              + " none fires during the measurement. CPU: the process's CPU time over "
              + cpuSeconds
              + " s of wall clock, as a share of one core, before the jobs were scheduled and"
              + " after (same node, same JVM).",
          List.of("Node", "Jobs", "CPU (share of one core)", "Goal", "Met"),
          rows);
    }
  }

  private static String percentOfCore(double share) {
    return String.format(java.util.Locale.ROOT, "%.3f %%", share * 100);
  }

  private static double cpuShare(OperatingSystemMXBean os, int seconds)
      throws InterruptedException {
    long cpu0 = os.getProcessCpuTime();
    long wall0 = System.nanoTime();
    Thread.sleep(seconds * 1000L); // measuring idle CPU: the window is the measurement
    long cpu1 = os.getProcessCpuTime();
    long wall1 = System.nanoTime();
    return (double) (cpu1 - cpu0) / (wall1 - wall0);
  }

  // ---- claim cost -----------------------------------------------------------------------------

  private static Map<String, Object> claimCost(int claims, Map<String, Object> data)
      throws Exception {
    List<List<Object>> rows = new ArrayList<>();
    rows.add(
        claimRow(
            "H2 (in memory)",
            "jdbc:h2:mem:cron_claim_" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
            claims,
            data));
    String pg = Figures.postgresUrl();
    if (pg != null) {
      rows.add(claimRow("PostgreSQL (127.0.0.1)", pg, claims, data));
    }
    return Figures.table(
        "Claim cost per tick",
        "One embedded node; "
            + Figures.count(claims)
            + " `triggerNow` calls one after another over 100 jobs (so no two claims of a job fall"
            + " in the same millisecond): ask the scheduler, insert the claim row (the fencing"
            + " token joined in the same statement), reply. The tick is then delivered as usual."
            + (pg == null ? " PostgreSQL was not reachable: H2 only." : ""),
        List.of("Database", "Claims", "p50 ms", "p99 ms", "Claims per s (one at a time)"),
        rows);
  }

  private static List<Object> claimRow(
      String what, String url, int claims, Map<String, Object> data) throws Exception {
    System.out.println("==> claim cost: " + what);
    try (TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder().config("troupe.storage.url = \"" + url + "\"").build())) {
      node.whenUp().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      startTargets(node);
      Cron cron = Cron.get(node);
      for (int i = 0; i < 100; i++) {
        cron.schedule(CronJob.builder("claim-" + i).spec("0 0 1 1 *").targetGroup(TICKS).build())
            .toCompletableFuture()
            .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
      int warmup = claims / 5;
      long[] nanos = new long[claims];
      long began = 0;
      for (int i = -warmup; i < claims; i++) {
        if (i == 0) {
          began = System.nanoTime();
        }
        long t0 = System.nanoTime();
        cron.triggerNow("claim-" + Math.floorMod(i, 100))
            .toCompletableFuture()
            .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (i >= 0) {
          nanos[i] = System.nanoTime() - t0;
        }
      }
      double perSecond = claims / ((System.nanoTime() - began) / 1e9);
      data.put("claimNanos " + what, nanos);
      long p50 = Figures.percentile(nanos, 50);
      long p99 = Figures.percentile(nanos, 99);
      System.out.printf(
          "    p50 %s ms, p99 %s ms, %.0f/s%n", Figures.ms(p50), Figures.ms(p99), perSecond);
      return List.of(
          what,
          Figures.count(claims),
          Figures.ms(p50),
          Figures.ms(p99),
          Figures.count(Math.round(perSecond)));
    }
  }
}
