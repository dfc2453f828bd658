package dev.troupe.sharding.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * INTERNAL API. The decisions of one reconciler round, without actors, clocks or I/O of its own: it
 * reads through a {@link View}, takes the time from a nanosecond source, and returns what to fix
 * and where the next round continues. {@link ReconcilerActor} gathers the inputs and carries out
 * the decisions.
 */
public final class ReconcileRound {
  /*
   * A round makes up to four passes, each over at most `budget` keys in ascending order from a
   * cursor of its own:
   *   DESIRED  the desired keys (the repository's keys, or a DesiredKeys source). Each key counts
   *            as scanned, and as owned if the ring puts it on this node. An owned key without a
   *            worker here gets a start, a key that passes warmWhen and is not cached here gets a
   *            warm (every node has a cache of its own, so ownership does not matter for it) -
   *            both only if the key is desired, which is read only for such keys.
   *   RUNNING  this node's running workers (only when retiring): a worker whose key is not desired
   *            is retired. A key whose desiredness is UNKNOWN (its value could not be judged) is
   *            never retired.
   *   CACHED   this node's cache entries (only with a cache): an entry older than the repository,
   *            or whose key is gone from it, is dropped.
   *   HOTTEST  the n keys read most here recently (only with warmHottest): one that is desired and
   *            not cached gets a warm. No cursor: the top n are read afresh.
   *
   * Bounds: a pass ends at the end of its keys (its cursor wraps to null, the start) or after
   * `budget` keys (the cursor is its last key). A pass that finds nothing after its cursor starts
   * from the first key at once (the previous page ended exactly at the end). The round stops when
   * its time is up, checked before each page and each key but never before the round's first key,
   * so that every round moves on however short the limit. A stopped round is cut short: the next
   * round resumes with the pass it stopped in, right after the last key it handled, then makes the
   * other passes in their order. The rest of a round is carried over, never skipped, and a slow
   * pass does not starve the others.
   *
   * Failures: an exception from the view (the storage or the desired source could not be read)
   * stops the round like the time limit, before the key it was about: nothing is decided for that
   * key, and the next round starts with it. The decisions taken before it stand: each rests on
   * reads that succeeded.
   */
  private ReconcileRound() {}

  /** The passes of a round, in their order. */
  public enum Pass {
    DESIRED,
    RUNNING,
    CACHED,
    HOTTEST
  }

  /** Whether a key should have a worker; {@code UNKNOWN} when its value could not be judged. */
  public enum Desire {
    YES,
    NO,
    UNKNOWN
  }

  /**
   * Where a round starts: its first pass and each pass's cursor, the last key handled ({@code
   * null}: from the first key).
   */
  public record Cursors(Pass pass, String desired, String running, String cached) {
    /** The cursors of the first round. */
    public static final Cursors START = new Cursors(Pass.DESIRED, null, null, null);
  }

  /**
   * What every round does, fixed when the reconciler starts.
   *
   * @param budget the most keys per pass
   * @param timeLimitNanos the time after which a round stops (after its first key)
   * @param start whether workers are started (a wake message is set)
   * @param retire whether the running workers are checked (retire mode not OFF)
   * @param warmWhen which scanned keys to warm; null: none
   * @param warmHottest how many of the most read keys to keep warm; 0: none
   * @param checkCache whether the cache's entries are checked against the repository
   */
  public record Rules(
      int budget,
      long timeLimitNanos,
      boolean start,
      boolean retire,
      Predicate<String> warmWhen,
      int warmHottest,
      boolean checkCache) {}

  /** What a round reads. Any method may throw: the round then stops before the key it was about. */
  public interface View {
    /** Up to {@code limit} desired keys after {@code cursor} (null: from the first), sorted. */
    List<String> desiredKeysAfter(String cursor, int limit);

    /** Whether {@code key} should have a worker. */
    Desire desire(String key);

    /** Whether the ring puts {@code key} on this node. */
    boolean owns(String key);

    /** Whether a worker for {@code key} runs on this node. */
    boolean isRunning(String key);

    /** Up to {@code limit} keys of this node's workers after {@code cursor}, sorted. */
    List<String> runningKeysAfter(String cursor, int limit);

    /** Whether this node's cache holds {@code key}. */
    boolean isCached(String key);

    /** Up to {@code limit} keys of this node's cache after {@code cursor}, sorted. */
    List<String> cachedKeysAfter(String cursor, int limit);

    /** Whether this node's entry of {@code key} is older than the repository, or its key gone. */
    boolean isStale(String key);

    /** The {@code n} keys read most on this node recently, most read first. */
    List<String> hottest(int n);
  }

  /**
   * What a round decided.
   *
   * @param starts keys whose worker to start here
   * @param retires keys whose worker here to retire
   * @param warms keys to load into this node's cache
   * @param drops keys to drop from the caches
   * @param scanned desired keys read
   * @param owned of those, the keys this node owns
   * @param cutShort whether the round stopped before the end of its passes (time or failure)
   * @param failure what stopped the round, if a read failed; null otherwise
   * @param next where the next round starts
   */
  public record Decisions(
      List<String> starts,
      List<String> retires,
      List<String> warms,
      List<String> drops,
      int scanned,
      int owned,
      boolean cutShort,
      RuntimeException failure,
      Cursors next) {}

  /**
   * Decides one round from {@code from}, reading through {@code view}, with {@code nanoTime} as the
   * clock of its time limit.
   */
  public static Decisions decide(View view, Rules rules, Cursors from, LongSupplier nanoTime) {
    return new Walk(view, rules, from, nanoTime).run();
  }

  /** One round's state while it decides. */
  private static final class Walk {
    private final View view;
    private final Rules rules;
    private final Cursors from;
    private final LongSupplier nanoTime;
    private final long started;
    private final List<String> starts = new ArrayList<>();
    private final List<String> retires = new ArrayList<>();
    private final Set<String> warms = new LinkedHashSet<>();
    private final List<String> drops = new ArrayList<>();
    private int scanned;
    private int owned;
    private boolean handledAny;
    private String desired;
    private String running;
    private String cached;

    Walk(View view, Rules rules, Cursors from, LongSupplier nanoTime) {
      this.view = view;
      this.rules = rules;
      this.from = from;
      this.nanoTime = nanoTime;
      this.started = nanoTime.getAsLong();
      this.desired = from.desired();
      this.running = from.running();
      this.cached = from.cached();
    }

    Decisions run() {
      Pass[] passes = Pass.values();
      Pass stoppedIn = null;
      RuntimeException failure = null;
      for (int i = 0; i < passes.length && stoppedIn == null; i++) {
        Pass pass = passes[(from.pass().ordinal() + i) % passes.length];
        if (!enabled(pass)) {
          continue;
        }
        try {
          if (!walk(pass)) {
            stoppedIn = pass;
          }
        } catch (RuntimeException e) {
          failure = e;
          stoppedIn = pass;
        }
      }
      return new Decisions(
          List.copyOf(starts),
          List.copyOf(retires),
          List.copyOf(warms),
          List.copyOf(drops),
          scanned,
          owned,
          stoppedIn != null,
          failure,
          new Cursors(stoppedIn == null ? from.pass() : stoppedIn, desired, running, cached));
    }

    private boolean enabled(Pass pass) {
      return switch (pass) {
        case DESIRED -> true;
        case RUNNING -> rules.retire();
        case CACHED -> rules.checkCache();
        case HOTTEST -> rules.warmHottest() > 0;
      };
    }

    /** Makes one pass; false if the time ran out before its end. */
    private boolean walk(Pass pass) {
      if (timeUp()) {
        return false;
      }
      if (pass == Pass.HOTTEST) {
        return warmHottest();
      }
      String cursor = cursor(pass);
      List<String> page = page(pass, cursor);
      if (page.isEmpty() && cursor != null) {
        setCursor(pass, null);
        page = page(pass, null);
      }
      if (page.size() > rules.budget()) {
        page = page.subList(0, rules.budget());
      }
      for (String key : page) {
        if (timeUp()) {
          return false;
        }
        handle(pass, key);
        setCursor(pass, key);
        handledAny = true;
      }
      setCursor(pass, page.size() < rules.budget() ? null : page.get(page.size() - 1));
      return true;
    }

    private boolean warmHottest() {
      for (String key : view.hottest(rules.warmHottest())) {
        if (timeUp()) {
          return false;
        }
        if (!warms.contains(key) && !view.isCached(key) && view.desire(key) == Desire.YES) {
          warms.add(key);
        }
        handledAny = true;
      }
      return true;
    }

    private void handle(Pass pass, String key) {
      switch (pass) {
        case DESIRED -> handleDesired(key);
        case RUNNING -> {
          if (view.desire(key) == Desire.NO) {
            retires.add(key);
          }
        }
        case CACHED -> {
          if (view.isStale(key)) {
            drops.add(key);
          }
        }
        case HOTTEST -> throw new IllegalStateException("HOTTEST has no pages");
      }
    }

    private void handleDesired(String key) {
      boolean mine = view.owns(key);
      boolean wantsStart = rules.start() && mine && !view.isRunning(key);
      boolean wantsWarm =
          rules.warmWhen() != null
              && !warms.contains(key)
              && rules.warmWhen().test(key)
              && !view.isCached(key);
      if ((wantsStart || wantsWarm) && view.desire(key) == Desire.YES) {
        if (wantsStart) {
          starts.add(key);
        }
        if (wantsWarm) {
          warms.add(key);
        }
      }
      scanned++;
      if (mine) {
        owned++;
      }
    }

    /** Whether the round's time is up; never before its first key. */
    private boolean timeUp() {
      return handledAny && nanoTime.getAsLong() - started >= rules.timeLimitNanos();
    }

    private List<String> page(Pass pass, String cursor) {
      return switch (pass) {
        case DESIRED -> view.desiredKeysAfter(cursor, rules.budget());
        case RUNNING -> view.runningKeysAfter(cursor, rules.budget());
        case CACHED -> view.cachedKeysAfter(cursor, rules.budget());
        case HOTTEST -> throw new IllegalStateException("HOTTEST has no pages");
      };
    }

    private String cursor(Pass pass) {
      return switch (pass) {
        case DESIRED -> desired;
        case RUNNING -> running;
        case CACHED -> cached;
        case HOTTEST -> null;
      };
    }

    private void setCursor(Pass pass, String key) {
      switch (pass) {
        case DESIRED -> desired = key;
        case RUNNING -> running = key;
        case CACHED -> cached = key;
        case HOTTEST -> {}
      }
    }
  }
}
