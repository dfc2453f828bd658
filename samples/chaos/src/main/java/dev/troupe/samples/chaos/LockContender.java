package dev.troupe.samples.chaos;

import dev.troupe.core.lock.Lock;
import dev.troupe.core.lock.LockRegistry;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Competes for one lock forever: acquire, make a fenced write with the token every 200 ms for about
 * two seconds while {@code isHeld()}, release, pause briefly, again. Witnesses {@code
 * lock_acquire}, {@code lock_write} (accepted or not), {@code lock_lost}, {@code lock_release}.
 */
final class LockContender implements Runnable {
  static final String LOCK = "chaos-lock";
  private final LockRegistry locks;
  private final Fence fence;
  private final Witness witness;

  LockContender(LockRegistry locks, Fence fence, Witness witness) {
    this.locks = locks;
    this.fence = fence;
    this.witness = witness;
  }

  static void start(LockRegistry locks, Fence fence, Witness witness) {
    Thread thread = new Thread(new LockContender(locks, fence, witness), "chaos-lock-contender");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void run() {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        Lock lock =
            locks
                .acquire(LOCK, Duration.ofSeconds(60))
                .toCompletableFuture()
                .get(70, TimeUnit.SECONDS);
        long token = lock.fencingToken();
        witness.emit("lock_acquire", LOCK, token);
        lock.onLost(() -> witness.emit("lock_lost", LOCK, token));
        for (int i = 0; i < 10 && lock.isHeld(); i++) {
          var event = witness.event("lock_write", LOCK, token);
          try {
            event.put("ok", fence.write("lock:" + LOCK, token));
          } catch (Exception e) {
            event.put("ok", false).put("error", e.toString());
          }
          event.put("t", System.currentTimeMillis()); // after the write
          witness.emit(event);
          Thread.sleep(200);
        }
        if (lock.isHeld()) {
          lock.release().toCompletableFuture().get(10, TimeUnit.SECONDS);
          witness.emit("lock_release", LOCK, token);
        }
        Thread.sleep(ThreadLocalRandom.current().nextLong(100, 400)); // let another node win
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        witness.emit("lock_error", String.valueOf(e.getMessage()), -1);
        try {
          Thread.sleep(500);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
