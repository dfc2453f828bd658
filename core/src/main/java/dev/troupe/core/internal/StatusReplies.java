package dev.troupe.core.internal;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/** INTERNAL API. The outcome of a stage, told to an actor as a {@link StatusReply}. */
public final class StatusReplies {
  private StatusReplies() {}

  /**
   * Tells {@code replyTo} {@code ack} when {@code stage} completes, or the error it failed with.
   */
  public static void tell(CompletionStage<Done> stage, ActorRef<StatusReply<Done>> replyTo) {
    stage.whenComplete(
        (done, error) -> {
          if (error == null) {
            replyTo.tell(StatusReply.ack());
          } else {
            Throwable cause =
                error instanceof CompletionException && error.getCause() != null
                    ? error.getCause()
                    : error;
            replyTo.tell(StatusReply.error(cause));
          }
        });
  }
}
