package dev.troupe.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.troupe.bench.baseline.TreeMapRing;
import dev.troupe.core.HashRing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

/**
 * Computes the load and key-movement figures of {@link HashRing}, next to the plain {@link
 * TreeMapRing} baseline, and writes them as JSON tables for {@link PerformanceReport}.
 *
 * <p>For each member count N it builds random member sets (node-address-like names, seeded) and
 * routes 100k keys ({@code "user-<random>"}, seeded):
 *
 * <ul>
 *   <li><b>load</b>: the most loaded member's share divided by the mean share (partitions for
 *       {@code HashRing}, whose bound is 1.25; keys for both rings);
 *   <li><b>join</b>: the fraction of keys whose member changes when the N-th member joins N-1,
 *       times N (1.0 = exactly the newcomer's fair share; the target is at most 1.2 on average);
 *   <li><b>leave</b>: the fraction of keys whose member changes when one of N members leaves, times
 *       N, and the part of it that the leaver did not own (0 for plain consistent hashing; the
 *       bounded-load cascade of {@code HashRing} moves a few).
 * </ul>
 *
 * <p>Usage: {@code RingFigures [output.json] [sets-per-N] [seed]}; defaults {@code
 * bench/results/ring-figures.json}, 50, 1. Run from the repository root ({@code bench/run} does).
 */
public final class RingFigures {
  private static final int[] MEMBER_COUNTS = {3, 5, 10, 20, 50};
  private static final int KEY_COUNT = 100_000;
  private static final double JOIN_TARGET = 1.2;

  private RingFigures() {}

  public static void main(String[] args) throws IOException {
    Path output = Path.of(args.length > 0 ? args[0] : "bench/results/ring-figures.json");
    int sets = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    long seed = args.length > 2 ? Long.parseLong(args[2]) : 1L;

    long started = System.nanoTime();
    Random random = new Random(seed);
    List<String> keys = new ArrayList<>(KEY_COUNT);
    for (int i = 0; i < KEY_COUNT; i++) {
      keys.add("user-" + random.nextInt(1_000_000_000));
    }

    List<Map<String, Object>> data = new ArrayList<>();
    List<List<Object>> loadRows = new ArrayList<>();
    List<List<Object>> joinRows = new ArrayList<>();
    List<List<Object>> leaveRows = new ArrayList<>();
    for (int n : MEMBER_COUNTS) {
      Stats partitionLoad = new Stats();
      Stats keyLoad = new Stats();
      Stats baselineKeyLoad = new Stats();
      Stats join = new Stats();
      Stats baselineJoin = new Stats();
      Stats leave = new Stats();
      Stats leaveOthers = new Stats();
      Stats baselineLeave = new Stats();
      Stats baselineLeaveOthers = new Stats();
      int joinsOverTarget = 0;
      for (int set = 0; set < sets; set++) {
        List<String> members = randomMembers(random, n);
        HashRing ring = HashRing.of(members);
        TreeMapRing baseline = new TreeMapRing(members, HashRing.REPLICATION_FACTOR);
        String[] owners = route(keys, ring::pick);
        String[] baselineOwners = route(keys, baseline::pick);

        double mean = (double) HashRing.PARTITIONS / n;
        partitionLoad.add(Collections.max(ring.loads().values()) / mean);
        keyLoad.add(maxShare(owners) * n);
        baselineKeyLoad.add(maxShare(baselineOwners) * n);

        List<String> without = members.subList(0, n - 1);
        double joined = moved(route(keys, HashRing.of(without)::pick), owners, null) * n;
        join.add(joined);
        joinsOverTarget += joined > JOIN_TARGET ? 1 : 0;
        TreeMapRing baselineWithout = new TreeMapRing(without, HashRing.REPLICATION_FACTOR);
        baselineJoin.add(moved(route(keys, baselineWithout::pick), baselineOwners, null) * n);

        String leaver = members.get(random.nextInt(n));
        String[] left = route(keys, ring.withoutMember(leaver)::pick);
        leave.add(moved(owners, left, null) * n);
        leaveOthers.add(moved(owners, left, leaver) * n);
        List<String> remaining = new ArrayList<>(members);
        remaining.remove(leaver);
        String[] baselineLeft =
            route(keys, new TreeMapRing(remaining, HashRing.REPLICATION_FACTOR)::pick);
        baselineLeave.add(moved(baselineOwners, baselineLeft, null) * n);
        baselineLeaveOthers.add(moved(baselineOwners, baselineLeft, leaver) * n);
      }

      loadRows.add(
          List.of(
              n,
              partitionLoad.format3Max(),
              keyLoad.format3Mean() + " / " + keyLoad.format3Max(),
              baselineKeyLoad.format3Mean() + " / " + baselineKeyLoad.format3Max()));
      joinRows.add(
          List.of(
              n,
              String.format(Locale.ROOT, "%.4f", 1.0 / n),
              String.format(Locale.ROOT, "%.4f", join.mean() / n),
              join.format3Mean(),
              join.format3Max(),
              joinsOverTarget + " / " + sets,
              baselineJoin.format3Mean() + " / " + baselineJoin.format3Max()));
      leaveRows.add(
          List.of(
              n,
              leave.format3Mean() + " / " + leave.format3Max(),
              leaveOthers.format3Mean() + " / " + leaveOthers.format3Max(),
              baselineLeave.format3Mean() + " / " + baselineLeave.format3Max(),
              baselineLeaveOthers.format3Mean()));

      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("n", n);
      figures.put("hashRingMaxPartitionLoadOverMean", partitionLoad.toMap());
      figures.put("hashRingMaxKeyLoadOverMean", keyLoad.toMap());
      figures.put("treeMapRingMaxKeyLoadOverMean", baselineKeyLoad.toMap());
      figures.put("hashRingJoinMovedTimesN", join.toMap());
      figures.put("hashRingJoinsOver1.2", joinsOverTarget);
      figures.put("treeMapRingJoinMovedTimesN", baselineJoin.toMap());
      figures.put("hashRingLeaveMovedTimesN", leave.toMap());
      figures.put("hashRingLeaveOthersMovedTimesN", leaveOthers.toMap());
      figures.put("treeMapRingLeaveMovedTimesN", baselineLeave.toMap());
      figures.put("treeMapRingLeaveOthersMovedTimesN", baselineLeaveOthers.toMap());
      data.add(figures);
      System.out.printf(
          Locale.ROOT,
          "N=%d load %.3f, join x N %.3f (max %.3f), leave others x N %.3f%n",
          n,
          partitionLoad.max(),
          join.mean(),
          join.max(),
          leaveOthers.mean());
    }

    String setsText = sets + " random member sets per N, " + KEY_COUNT / 1000 + "k keys";
    List<Map<String, Object>> tables =
        List.of(
            table(
                "Load: most loaded member / mean",
                "Over "
                    + setsText
                    + ". HashRing bounds the partitions a member owns at 1.25 x the mean;"
                    + " TreeMapRing (40 virtual nodes, no bound) is the baseline. Key shares"
                    + " also carry the sampling noise of 100k keys (a few percent at N = 50),"
                    + " so they can exceed the partition bound. Cells with two values are"
                    + " mean / worst set.",
                List.of(
                    "N",
                    "HashRing, partitions (worst set)",
                    "HashRing, keys",
                    "TreeMapRing baseline, keys"),
                loadRows),
            table(
                "Join: keys that move when the N-th member joins",
                "Moved fraction of the keys, also as a multiple of 1/N (1.0 = the newcomer's fair"
                    + " share; target: at most 1.2 on average). A single join can exceed 1.2/N:"
                    + " the newcomer's share of the ring varies by about 16% with 40 virtual"
                    + " nodes, as in the baseline.",
                List.of(
                    "N",
                    "1/N",
                    "HashRing moved (mean)",
                    "HashRing moved x N (mean)",
                    "HashRing moved x N (worst set)",
                    "sets over 1.2/N",
                    "TreeMapRing moved x N (mean / worst)"),
                joinRows),
            table(
                "Leave: keys that move when one of N members leaves",
                "As multiples of 1/N, mean / worst set. 'Others' are keys the leaver did not own:"
                    + " moved only by HashRing's bounded-load cascade.",
                List.of(
                    "N",
                    "HashRing moved x N",
                    "HashRing others moved x N",
                    "TreeMapRing moved x N",
                    "TreeMapRing others moved x N"),
                leaveRows));

    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("partitions", HashRing.PARTITIONS);
    parameters.put("replicationFactor", HashRing.REPLICATION_FACTOR);
    parameters.put("loadFactor", HashRing.LOAD_FACTOR);
    parameters.put("keys", KEY_COUNT);
    parameters.put("setsPerN", sets);
    parameters.put("seed", seed);
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("generator", RingFigures.class.getName());
    document.put("generated", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    document.put("parameters", parameters);
    document.put("tables", tables);
    document.put("data", data);

    if (output.getParent() != null) {
      Files.createDirectories(output.getParent());
    }
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(output.toFile(), document);
    System.out.printf(
        Locale.ROOT,
        "Ring figures written to %s in %.1f s%n",
        output,
        (System.nanoTime() - started) / 1e9);
  }

  private static Map<String, Object> table(
      String title, String description, List<String> columns, List<List<Object>> rows) {
    Map<String, Object> table = new LinkedHashMap<>();
    table.put("title", title);
    table.put("description", description);
    table.put("columns", columns);
    table.put("rows", rows);
    return table;
  }

  private static List<String> randomMembers(Random random, int n) {
    Set<String> members = new LinkedHashSet<>();
    while (members.size() < n) {
      members.add(
          "pekko://troupe@10."
              + random.nextInt(256)
              + "."
              + random.nextInt(256)
              + "."
              + random.nextInt(256)
              + ":"
              + (25520 + random.nextInt(1000)));
    }
    return new ArrayList<>(members);
  }

  private static String[] route(List<String> keys, Function<String, String> pick) {
    String[] owners = new String[keys.size()];
    for (int i = 0; i < owners.length; i++) {
      owners[i] = pick.apply(keys.get(i));
    }
    return owners;
  }

  /** The largest share of keys any one member has. */
  private static double maxShare(String[] owners) {
    Map<String, Integer> counts = new HashMap<>();
    for (String owner : owners) {
      counts.merge(owner, 1, Integer::sum);
    }
    return (double) Collections.max(counts.values()) / owners.length;
  }

  /**
   * The fraction of keys whose owner differs between {@code before} and {@code after}; if {@code
   * except} is given, only keys that {@code except} did not own before count.
   */
  private static double moved(String[] before, String[] after, String except) {
    int moved = 0;
    for (int i = 0; i < before.length; i++) {
      if (!before[i].equals(after[i]) && !before[i].equals(except)) {
        moved++;
      }
    }
    return (double) moved / before.length;
  }

  /** Mean and maximum of a series of figures. */
  private static final class Stats {
    private double sum;
    private double max = Double.NEGATIVE_INFINITY;
    private int count;

    void add(double value) {
      sum += value;
      max = Math.max(max, value);
      count++;
    }

    double mean() {
      return sum / count;
    }

    double max() {
      return max;
    }

    String format3Mean() {
      return String.format(Locale.ROOT, "%.3f", mean());
    }

    String format3Max() {
      return String.format(Locale.ROOT, "%.3f", max);
    }

    Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("mean", mean());
      map.put("max", max);
      map.put("sets", count);
      return map;
    }
  }
}
