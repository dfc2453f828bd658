package dev.troupe.core.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * INTERNAL API. When the registry and the address-book actors run a batch and rebuild their
 * published views: after a rebuild that took t, the next one waits at least t (a timer brings the
 * actor's batch message back then), so that during a burst of other nodes' changes at most half of
 * the actor's time goes to views; but at once when a command of this node waits for the rebuild
 * (its caller is blocked on it, and the timer's 10 ms tick would bound a burst's rate). The
 * callers' futures are completed off the actor's thread. Not thread-safe: one per actor.
 *
 * @param <C> the actor's command type
 */
final class PublishPacer<C> {
  private static final Object TIMER = "publish";

  private final TimerScheduler<C> timers;
  private final ActorRef<C> self;
  private final C batch;
  private final Executor executor;
  private final List<Runnable> afterPublish = new ArrayList<>();
  private long nextPublishNanos = System.nanoTime();
  private boolean batchRequested;

  /**
   * @param self the actor
   * @param batch the message that makes the actor run its batch
   * @param executor where the completions of waiting commands run (not the actor)
   */
  PublishPacer(TimerScheduler<C> timers, ActorRef<C> self, C batch, Executor executor) {
    this.timers = timers;
    this.self = self;
    this.batch = batch;
    this.executor = executor;
  }

  /**
   * Asks for a batch, once until it runs: a message to the actor, so it runs after the messages
   * already in its mailbox and a burst of them makes one batch.
   */
  void requestBatch() {
    if (!batchRequested) {
      batchRequested = true;
      self.tell(batch);
    }
  }

  /** The actor's batch starts: the next change asks for another one. */
  void batchStarted() {
    batchRequested = false;
  }

  /** Runs {@code completion} (off the actor) after the next rebuild. */
  void afterPublish(Runnable completion) {
    afterPublish.add(completion);
  }

  /** Whether to rebuild now; if not, makes sure the batch comes back when it is time. */
  boolean mayPublish(long nowNanos) {
    if (!afterPublish.isEmpty() || nowNanos - nextPublishNanos >= 0) {
      return true;
    }
    if (!timers.isTimerActive(TIMER)) {
      timers.startSingleTimer(TIMER, batch, Duration.ofNanos(nextPublishNanos - nowNanos));
    }
    return false;
  }

  /** A rebuild ran from {@code startNanos} to now: sets the next one and completes the waiters. */
  void published(long startNanos) {
    long end = System.nanoTime();
    nextPublishNanos = end + (end - startNanos);
    if (!afterPublish.isEmpty()) {
      List<Runnable> due = List.copyOf(afterPublish);
      afterPublish.clear();
      executor.execute(() -> due.forEach(Runnable::run));
    }
  }
}
