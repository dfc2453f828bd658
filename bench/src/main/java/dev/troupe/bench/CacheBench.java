package dev.troupe.bench;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.ReadCache;
import dev.troupe.sharding.Repository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The hit ratio of a {@link ReadCache} under a Zipf-distributed read load, against an LRU cache of
 * the same size on the same reads; written as JSON tables for {@link PerformanceReport}.
 *
 * <p>One embedded {@link TroupeNode} (port 0); a {@link Repository} on an in-memory H2 database
 * holds {@code --keys} values (100,000); the cache in front of it holds at most {@code --size}
 * (10,000) entries, with a TTL (1 h) that never expires during the run. The reads are an
 * independent Zipf stream over the keys: key rank r (1 = most popular) is read with probability
 * proportional to 1 / r^s, s = 1.0, drawn by inverse transform (binary search in the cumulative
 * distribution) with a seeded {@link SplittableRandom}; ranks are mapped to keys through a seeded
 * shuffle. After {@code --warmup} reads (100,000), {@code --reads} reads (1,000,000) are measured:
 * the hit ratio is hits ÷ (hits + misses) of the measured reads, from the cache's counters.
 *
 * <p>The same stream also runs through:
 *
 * <ul>
 *   <li><b>LRU</b> (the baseline): a {@code LinkedHashMap} in access order that evicts its eldest
 *       entry beyond the same size, what a plain LRU cache gets;
 *   <li><b>Top keys pinned</b>: the share of the measured reads that fall on the {@code --size}
 *       most probable keys, the expected hit ratio of a cache that knows the distribution and holds
 *       exactly those keys: the best any cache can do on independent reads without knowing the
 *       future.
 * </ul>
 *
 * <p>Usage: {@code CacheBench [--keys 100000] [--size 10000] [--reads 1000000] [--warmup 100000]
 * [--seed 42] [--output bench/results/cache.json]}. Run from the repository root ({@code bench/run}
 * does).
 */
public final class CacheBench {
  private static final double GOAL = 0.80;
  private static final double ZIPF_S = 1.0;

  /** A stored value. */
  public record Item(String name, long price, List<String> tags) {}

  private CacheBench() {}

  public static void main(String[] args) throws Exception {
    int keys = 100_000;
    int size = 10_000;
    int reads = 1_000_000;
    int warmup = 100_000;
    long seed = 42;
    Path output = Path.of("bench/results/cache.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--keys" -> keys = Figures.intOption(args, ++i, "--keys", 1);
        case "--size" -> size = Figures.intOption(args, ++i, "--size", 1);
        case "--reads" -> reads = Figures.intOption(args, ++i, "--reads", 1);
        case "--warmup" -> warmup = Figures.intOption(args, ++i, "--warmup", 0);
        case "--seed" -> seed = Long.parseLong(Figures.value(args, ++i, "--seed"));
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        default -> {
          System.err.println(
              "usage: CacheBench [--keys 100000] [--size 10000] [--reads 1000000]"
                  + " [--warmup 100000] [--seed 42] [--output bench/results/cache.json]");
          System.exit(2);
        }
      }
    }
    long begin = System.nanoTime();
    System.out.printf(
        Locale.ROOT,
        "==> Zipf(s = %.1f) over %,d keys, seed %d: %,d warm-up + %,d measured reads, cache size"
            + " %,d%n",
        ZIPF_S,
        keys,
        seed,
        warmup,
        reads,
        size);

    // The stream: key indices, popular ranks scattered over the key space.
    int[] keyOfRank = shuffledIdentity(keys, new Random(seed));
    double[] cdf = zipfCdf(keys, ZIPF_S);
    SplittableRandom random = new SplittableRandom(seed);
    int total = warmup + reads;
    int[] ranks = new int[total];
    for (int i = 0; i < total; i++) {
      ranks[i] = rank(cdf, random.nextDouble());
    }

    String url = "jdbc:h2:mem:bench_" + UUID.randomUUID().toString().replace("-", "");
    TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder()
                .name("cache-bench")
                .port(0)
                .config(
                    String.join(
                        "\n",
                        "pekko.log-dead-letters = off",
                        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                        "troupe.storage.url = \"" + url + "_node;DB_CLOSE_DELAY=-1\""))
                .build());
    Storage storage = Storage.fromUrl(url + ";DB_CLOSE_DELAY=-1");
    long hits;
    long misses;
    double cumulativeRatio;
    double readSeconds;
    try {
      node.whenUp().toCompletableFuture().get(60, TimeUnit.SECONDS);
      Repository<Item> repository = Repository.create(storage, "bench-cache", Item.class);
      long filling = System.nanoTime();
      for (int k = 0; k < keys; k++) {
        repository.save(key(k), new Item("item " + k, 100 + k % 1000, List.of("bench")), 0);
      }
      System.out.printf(
          Locale.ROOT,
          "Repository filled with %,d values in %.1f s%n",
          keys,
          (System.nanoTime() - filling) / 1e9);
      ReadCache<Item> cache = ReadCache.create(node, repository, Duration.ofHours(1), size);
      for (int i = 0; i < warmup; i++) {
        read(cache, keyOfRank[ranks[i]]);
      }
      long hits0 = cache.hitCount();
      long misses0 = cache.missCount();
      long reading = System.nanoTime();
      for (int i = warmup; i < total; i++) {
        read(cache, keyOfRank[ranks[i]]);
      }
      readSeconds = (System.nanoTime() - reading) / 1e9;
      hits = cache.hitCount() - hits0;
      misses = cache.missCount() - misses0;
      cumulativeRatio = cache.hitRatio();
    } finally {
      node.system().terminate();
      node.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      storage.close();
    }

    // The same stream through an LRU of the same size, and the pinned top keys.
    long lruHits = 0;
    LinkedHashMap<Integer, Boolean> lru = lru(size);
    for (int i = 0; i < total; i++) {
      boolean hit = lru.get(ranks[i]) != null;
      if (!hit) {
        lru.put(ranks[i], Boolean.TRUE);
      }
      if (i >= warmup && hit) {
        lruHits++;
      }
    }
    long topHits = 0;
    for (int i = warmup; i < total; i++) {
      topHits += ranks[i] < size ? 1 : 0;
    }

    double ratio = (double) hits / (hits + misses);
    double lruRatio = (double) lruHits / reads;
    double topRatio = (double) topHits / reads;
    System.out.printf(
        Locale.ROOT,
        "ReadCache hit ratio %.4f (%,d hits, %,d misses; %.0f reads/s), LRU %.4f, top keys"
            + " pinned %.4f%n",
        ratio,
        hits,
        misses,
        reads / readSeconds,
        lruRatio,
        topRatio);

    List<List<Object>> rows = new ArrayList<>();
    rows.add(
        List.of(
            "ReadCache (Caffeine, W-TinyLFU)",
            Figures.count(reads),
            Figures.count(hits),
            Figures.count(misses),
            Figures.percent(ratio),
            points(ratio - lruRatio),
            "≥ 80 %",
            ratio >= GOAL ? "met" : "**not met**"));
    rows.add(
        List.of(
            "Baseline: LRU (LinkedHashMap in access order)",
            Figures.count(reads),
            Figures.count(lruHits),
            Figures.count(reads - lruHits),
            Figures.percent(lruRatio),
            "—",
            "—",
            "—"));
    rows.add(
        List.of(
            "Reference: the " + Figures.count(size) + " most popular keys pinned",
            Figures.count(reads),
            Figures.count(topHits),
            Figures.count(reads - topHits),
            Figures.percent(topRatio),
            points(topRatio - lruRatio),
            "—",
            "—"));
    String description =
        "One embedded node; a Repository on in-memory H2 with "
            + Figures.count(keys)
            + " values, a ReadCache.create(node, repository, 1 h, "
            + Figures.count(size)
            + ") in front. Reads: an independent Zipf stream (s = "
            + ZIPF_S
            + ", seed "
            + seed
            + ") over the keys, "
            + Figures.count(warmup)
            + " warm-up reads, then "
            + Figures.count(reads)
            + " measured; hits and misses of the measured reads from the cache's counters"
            + " (ReadCache.hitRatio() since creation, warm-up included: "
            + Figures.percent(cumulativeRatio)
            + "). The LRU baseline replays the same stream through a LinkedHashMap of the same"
            + " size; the last row is the share of the measured reads on the most popular keys,"
            + " what a cache that holds exactly those would hit: the ceiling for independent"
            + " reads. The cache served the measured reads at "
            + String.format(Locale.ROOT, "%,.0f", reads / readSeconds)
            + " reads/s, misses loading from H2 in the reading thread.";
    Map<String, Object> table =
        Figures.table(
            "Read cache: hit ratio under a Zipf read load",
            description,
            List.of("Cache", "Reads", "Hits", "Misses", "Hit ratio", "vs LRU", "Goal", "Met"),
            rows);
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("keys", keys);
    parameters.put("cacheSize", size);
    parameters.put("zipfS", ZIPF_S);
    parameters.put("seed", seed);
    parameters.put("warmupReads", warmup);
    parameters.put("reads", reads);
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("hits", hits);
    data.put("misses", misses);
    data.put("hitRatio", ratio);
    data.put("hitRatioSinceCreation", cumulativeRatio);
    data.put("lruHits", lruHits);
    data.put("lruHitRatio", lruRatio);
    data.put("topKeysHitRatio", topRatio);
    data.put("readsPerSecond", reads / readSeconds);
    Figures.write(output, CacheBench.class, parameters, List.of(table), data);
    System.out.printf(
        Locale.ROOT,
        "Cache figures written to %s in %.1f s%n",
        output,
        (System.nanoTime() - begin) / 1e9);
    System.exit(0);
  }

  private static void read(ReadCache<Item> cache, int key) {
    if (cache.get(key(key)).isEmpty()) {
      throw new IllegalStateException("no value for " + key(key));
    }
  }

  private static String key(int k) {
    return "item-" + k;
  }

  /** {@code cdf[r]}: the probability of ranks 0..r (rank 0 the most popular). */
  static double[] zipfCdf(int n, double s) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int r = 0; r < n; r++) {
      sum += 1 / Math.pow(r + 1, s);
      cdf[r] = sum;
    }
    for (int r = 0; r < n; r++) {
      cdf[r] /= sum;
    }
    cdf[n - 1] = 1.0;
    return cdf;
  }

  /** The rank whose cumulative probability first reaches {@code u}. */
  static int rank(double[] cdf, double u) {
    int found = Arrays.binarySearch(cdf, u);
    return found >= 0 ? found : -found - 1;
  }

  private static int[] shuffledIdentity(int n, Random random) {
    int[] values = new int[n];
    for (int i = 0; i < n; i++) {
      values[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int swap = values[i];
      values[i] = values[j];
      values[j] = swap;
    }
    return values;
  }

  private static LinkedHashMap<Integer, Boolean> lru(int capacity) {
    return new LinkedHashMap<>(capacity * 2, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  private static String points(double difference) {
    return String.format(Locale.ROOT, "%+.1f pp", difference * 100);
  }
}
