package dev.troupe.samples.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server for one run (FAULTS.md 5.0: "a throwaway Postgres on a high port"),
 * listening on loopback and on the namespaces' bridge. Nodes in namespaces reach it directly, with
 * no proxy holding their sessions open, so that a node cut from the database port is seen by the
 * server itself: its TCP keepalive ends the cut node's sessions and frees their advisory locks, as
 * in production. Root only: the server runs as the {@code postgres} user.
 */
final class ThrowawayPostgres implements AutoCloseable {
  static final int PORT = 55432;
  private final Path bin;
  private final Path dir;

  private ThrowawayPostgres(Path bin, Path dir) {
    this.bin = bin;
    this.dir = dir;
  }

  /** The server binaries ({@code initdb}, {@code pg_ctl}) of the installed PostgreSQL, if any. */
  static Optional<Path> binaries() {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")))
          .max(Comparator.naturalOrder());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Creates a fresh cluster in a scratch directory and starts it on {@link #PORT}. */
  static ThrowawayPostgres start(String bridgeIp, String bridgeSubnet) {
    Path bin =
        binaries()
            .orElseThrow(() -> new IllegalStateException("no PostgreSQL server binaries found"));
    Path dir = Path.of("/tmp", "troupe-chaos-pg");
    ThrowawayPostgres pg = new ThrowawayPostgres(bin, dir);
    pg.stopQuietly(); // a server an earlier run left behind
    Scenarios.exec(List.of("rm", "-rf", dir.toString()));
    Scenarios.exec(List.of("mkdir", "-p", dir.toString()));
    Scenarios.exec(List.of("chown", "postgres", dir.toString()));
    Path data = dir.resolve("data");
    asPostgres(
        bin.resolve("initdb").toString(),
        "-D",
        data.toString(),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync");
    try {
      Files.writeString(
          data.resolve("pg_hba.conf"),
          "host all all " + bridgeSubnet + " trust\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write pg_hba.conf: " + e, e);
    }
    asPostgres(
        bin.resolve("pg_ctl").toString(),
        "-D",
        data.toString(),
        "-l",
        dir.resolve("server.log").toString(),
        "-w",
        "-o",
        "-p "
            + PORT
            + " -c listen_addresses=127.0.0.1,"
            + bridgeIp
            + " -c unix_socket_directories="
            + dir
            + " -c max_connections=300",
        "start");
    return pg;
  }

  /** The harness's URL (loopback); nodes use the bridge address instead. */
  String url() {
    return "jdbc:postgresql://127.0.0.1:" + PORT + "/postgres?user=postgres";
  }

  @Override
  public void close() {
    stopQuietly();
    Scenarios.exec(List.of("rm", "-rf", dir.toString()));
  }

  private void stopQuietly() {
    if (Files.isDirectory(dir.resolve("data"))) {
      try {
        asPostgres(
            bin.resolve("pg_ctl").toString(),
            "-D",
            dir.resolve("data").toString(),
            "-m",
            "immediate",
            "-w",
            "stop");
      } catch (IllegalStateException e) {
        // not running
      }
    }
  }

  private static void asPostgres(String... command) {
    List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    full.addAll(List.of(command));
    Scenarios.exec(full);
  }
}
