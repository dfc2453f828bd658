package dev.troupe.sharding.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * INTERNAL API. The workers of one fleet running on this node, each with the time of its last
 * message: what idle passivation, activeKeys and the active gauge read.
 */
public final class LocalWorkers {
  /*
   * Concurrency: workers register and remove themselves on their own threads; the node actor reads
   * on its thread. Each message a worker handles writes its lastNanos (one volatile store). The
   * passivation settings are volatile; each worker keeps its own random extra idle time, drawn
   * again whenever the settings change, so a new, shorter timeout spreads the stops of the
   * workers that are already idle over the jitter window.
   */

  /** One running worker. */
  public static final class Activity {
    final String key;
    final ActorRef<Object> self;
    final ActorRef<ClusterSharding.ShardCommand> shard;
    volatile long lastNanos = System.nanoTime();
    volatile long jitterNanos;
    volatile boolean passivating;

    Activity(
        String key, ActorRef<Object> self, ActorRef<ClusterSharding.ShardCommand> shard, long j) {
      this.key = key;
      this.self = self;
      this.shard = shard;
      this.jitterNanos = j;
    }

    /** Records a message. */
    public void touch() {
      lastNanos = System.nanoTime();
      passivating = false;
    }
  }

  private final ConcurrentHashMap<String, Activity> workers = new ConcurrentHashMap<>();
  private volatile long idleNanos;
  private volatile long jitterNanos;

  private final Runnable onSpawn;

  public LocalWorkers(long idleNanos, long jitterNanos, Runnable onSpawn) {
    this.idleNanos = idleNanos;
    this.jitterNanos = jitterNanos;
    this.onSpawn = onSpawn;
  }

  /**
   * Registers the worker of {@code key} (again after a restart: the same record stays); a new
   * worker counts as a spawn.
   */
  public Activity register(
      String key, ActorRef<Object> self, ActorRef<ClusterSharding.ShardCommand> shard) {
    Activity existing = workers.get(key);
    if (existing != null && existing.self.equals(self)) {
      return existing;
    }
    Activity fresh = new Activity(key, self, shard, draw());
    workers.put(key, fresh);
    onSpawn.run();
    return fresh;
  }

  /** Forgets {@code activity} (its worker stopped). */
  public void remove(Activity activity) {
    workers.remove(activity.key, activity);
  }

  /** The number of running workers. */
  public int size() {
    return workers.size();
  }

  /** The keys of the running workers. */
  public Set<String> keys() {
    return Set.copyOf(workers.keySet());
  }

  /**
   * Up to {@code limit} keys of running workers greater than {@code after} (null: from the first),
   * in ascending order; reads every key (see {@link KeyPages}).
   */
  List<String> keysAfter(String after, int limit) {
    return KeyPages.after(workers.keySet(), after, limit);
  }

  /** The worker of {@code key} running here, or null. */
  Activity get(String key) {
    return workers.get(key);
  }

  /** Whether a worker for {@code key} runs here. */
  public boolean isRunning(String key) {
    return workers.containsKey(key);
  }

  /** Changes the passivation settings and draws every worker's extra idle time again. */
  public void setPassivation(long idle, long jitter) {
    this.idleNanos = idle;
    this.jitterNanos = jitter;
    workers.values().forEach(a -> a.jitterNanos = draw());
  }

  /** The idle timeout in nanoseconds; 0 = off. */
  public long idleNanos() {
    return idleNanos;
  }

  /** The workers idle past their deadline at {@code now} that are not passivating yet. */
  List<Activity> expired(long now) {
    long idle = idleNanos;
    List<Activity> result = new ArrayList<>();
    if (idle <= 0) {
      return result;
    }
    for (Activity a : workers.values()) {
      if (!a.passivating && now - a.lastNanos >= idle + a.jitterNanos) {
        result.add(a);
      }
    }
    return result;
  }

  private long draw() {
    long jitter = jitterNanos;
    return jitter <= 0 ? 0 : ThreadLocalRandom.current().nextLong(jitter + 1);
  }
}
