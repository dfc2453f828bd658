package dev.troupe.samples.chat;

import dev.troupe.daemons.OnceLog;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The leader-only archiver ({@code LeaderOnly.run(node, "chat-archiver", ...)}): while this node
 * holds the lock, every {@code chat.archive-interval} it moves messages older than {@code
 * chat.archive-after} from {@code chat_message} to {@code chat_archive}, each through the {@link
 * OnceLog} so that no message is archived twice, even when two archivers overlap for a moment.
 */
final class Archiver {
  private Archiver() {}

  private enum Tick {
    INSTANCE
  }

  private record Done(int archived) {}

  static Behavior<Object> create(
      long token, ChatStore store, OnceLog once, ChatSettings settings, Clock clock) {
    return Behaviors.setup(
        ctx -> {
          Executor blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
          ctx.getLog().info("Chat archiver leading with fencing token {}", token);
          return Behaviors.withTimers(
              timers -> {
                timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.archiveInterval());
                return Behaviors.receive(Object.class)
                    .onMessageEquals(
                        Tick.INSTANCE,
                        () -> {
                          long before = clock.millis() - settings.archiveAfter().toMillis();
                          ctx.pipeToSelf(
                              CompletableFuture.supplyAsync(
                                  () -> archive(store, once, before), blocking),
                              (n, failure) -> new Done(failure == null ? n : -1));
                          return Behaviors.same();
                        })
                    .onMessage(
                        Done.class,
                        done -> {
                          if (done.archived() != 0) {
                            ctx.getLog()
                                .info("Chat archiver: {} message(s) archived", done.archived());
                          }
                          return Behaviors.same();
                        })
                    .build();
              });
        });
  }

  private static int archive(ChatStore store, OnceLog once, long beforeMillis) {
    List<ChatMessage> old = store.olderThan(beforeMillis, 500);
    int archived = 0;
    for (ChatMessage m : old) {
      boolean ran =
          once.runOnce(
                  "chat-archive:" + m.room() + ":" + m.seq(),
                  () -> CompletableFuture.runAsync(() -> store.archive(m), Runnable::run))
              .toCompletableFuture()
              .join();
      archived += ran ? 1 : 0;
    }
    return archived;
  }
}
