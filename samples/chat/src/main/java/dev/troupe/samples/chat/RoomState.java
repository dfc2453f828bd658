package dev.troupe.samples.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * A room as its Repository stores it: the latest messages, the next message number and the time of
 * the last post.
 *
 * @param history the latest messages, oldest first
 * @param nextSeq the number of the next message
 * @param lastPostAt the last post, epoch millis; 0 = never
 */
record RoomState(List<ChatMessage> history, long nextSeq, long lastPostAt) {

  RoomState {
    history = List.copyOf(history);
  }

  static RoomState empty() {
    return new RoomState(List.of(), 1, 0);
  }

  /** This state with {@code messages} appended, keeping the latest {@code keep}. */
  RoomState with(List<ChatMessage> messages, int keep) {
    List<ChatMessage> all = new ArrayList<>(history);
    all.addAll(messages);
    List<ChatMessage> kept = all.subList(Math.max(0, all.size() - keep), all.size());
    ChatMessage last = messages.get(messages.size() - 1);
    return new RoomState(kept, last.seq() + 1, last.at());
  }
}
