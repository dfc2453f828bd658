package dev.troupe.samples.chat;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.StorageSchema;
import java.util.List;

/**
 * The chat's own tables, installed by {@code Storage} (listed in {@code META-INF/services}): every
 * posted message, and the archive the leader-only archiver moves old ones to. Rooms' latest
 * messages are in the fleet's Repository.
 */
public final class ChatSchema implements StorageSchema {
  @Override
  public String name() {
    return "troupe-chat-sample";
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    String text = dialect == Dialect.POSTGRESQL ? "TEXT" : "VARCHAR(4000)";
    String columns =
        " (room VARCHAR(40) NOT NULL, seq BIGINT NOT NULL, author VARCHAR(64) NOT NULL, body "
            + text
            + " NOT NULL, posted_at BIGINT NOT NULL, PRIMARY KEY (room, seq))";
    return List.of(
        "CREATE TABLE IF NOT EXISTS chat_message" + columns,
        "CREATE TABLE IF NOT EXISTS chat_archive" + columns,
        "CREATE INDEX IF NOT EXISTS chat_message_posted ON chat_message (posted_at)");
  }
}
