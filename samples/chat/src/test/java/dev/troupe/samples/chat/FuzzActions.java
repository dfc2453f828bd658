package dev.troupe.samples.chat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * The fuzzer's catalogue: every kind of malformed, oversized, truncated or out-of-order input it
 * throws at a chat node's HTTP port (the page, static files, {@code /ws}, {@code /dashboard/ws},
 * {@code /api/dashboard}, {@code /metrics}) and at its Pekko Management port ({@code /ready},
 * {@code /alive}, {@code /cluster/members}, ...), over raw sockets so that any byte can be sent.
 *
 * <p>An action is one connection (or a few): it picks its variant and its bytes from a {@link
 * Random} seeded by the caller, so a run's actions follow from its seed; what the nodes answer is
 * the outcome, recorded in the {@link FuzzReport}. What must never come back is a finding: a 5xx, a
 * refused connection, a 101 to a foreign origin, a file outside the public ones, a write through
 * Management accepted.
 */
final class FuzzActions {
  /** How long a read waits for the node. */
  static final int READ_MILLIS = 2_000;

  /** How long any one connection may live, whatever it waits for. */
  static final long LIFETIME_MILLIS = 10_000;

  /** {@code chat.max-frame-bytes} in the fuzzer's configuration. */
  static final int MAX_FRAME_BYTES = 8192;

  /** The fuzzer's own rooms, {@code fz-0} to {@code fz-24}: more than one connection may be in. */
  private static final int FUZZ_ROOMS = 25;

  /** A node as the fuzzer sees it. */
  record Target(int index, int httpPort, int managementPort, String address) {
    String name() {
      return "node-" + index;
    }
  }

  /** Where an action goes: a node, its chat port or its Management port, a path. */
  private record Endpoint(Target target, boolean management, String path) {
    int port() {
      return management ? target.managementPort() : target.httpPort();
    }

    @Override
    public String toString() {
      return target.name()
          + (management ? " management " : " chat ")
          + FuzzSocket.abbreviate(printable(path));
    }
  }

  /** One action under way: its kind, its node, the seed of its own Random. */
  private record Attempt(String kind, Target target, long seed) {}

  @FunctionalInterface
  private interface Action {
    /** Runs the action and returns its outcome. */
    String run(Attempt attempt, Random random) throws IOException;
  }

  private record Kind(String name, Action action) {}

  /** An upgrade answered with something other than 101. */
  private static final class NotUpgraded extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    NotUpgraded(int status) {
      super("upgrade answered " + status);
      this.status = status;
    }
  }

  /**
   * The 5xx that HTTP prescribes for a request line the server cannot serve, which Pekko HTTP's
   * parser answers before any route runs: 501 for a method it does not know, 505 for a version
   * other than HTTP/1.x (RFC 9110, 15.6.2 and 15.6.6). Not a server error: every other 5xx is.
   */
  private static final Set<Integer> PROTOCOL_ANSWERS = Set.of(501, 505);

  private static final List<String> CHAT_PATHS =
      List.of(
          "/",
          "/chat.js",
          "/dashboard.js",
          "/style.css",
          "/ws",
          "/dashboard",
          "/dashboard/ws",
          "/api/dashboard",
          "/metrics",
          "/missing");

  private static final List<String> STATIC_PATHS =
      List.of("/", "/chat.js", "/dashboard.js", "/style.css", "/dashboard");

  private static final List<String> MANAGEMENT_PATHS =
      List.of(
          "/ready",
          "/alive",
          "/cluster/members",
          "/cluster/members/",
          "/cluster/shards/rooms",
          "/bootstrap/seed-nodes",
          "/missing");

  private static final List<String> RESOURCES =
      List.of(
          "web/index.html",
          "web/chat.js",
          "web/dashboard.js",
          "web/style.css",
          "web/dashboard.html");

  private final List<Target> targets;
  private final List<String> realRooms;
  private final FuzzReport report;
  private final List<Kind> kinds = new ArrayList<>();
  private final Set<String> publicBodies = new HashSet<>();

  /**
   * Actions against {@code targets}; some join and post to {@code realRooms}, where the real
   * clients talk.
   */
  FuzzActions(List<Target> targets, List<String> realRooms, FuzzReport report) {
    this.targets = List.copyOf(targets);
    this.realRooms = List.copyOf(realRooms);
    this.report = report;
    for (String resource : RESOURCES) {
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
        publicBodies.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    kinds.add(new Kind("http.garbage", this::httpGarbage));
    kinds.add(new Kind("http.truncated", this::httpTruncated));
    kinds.add(new Kind("http.huge-header", this::httpHugeHeader));
    kinds.add(new Kind("http.huge-uri", this::httpHugeUri));
    kinds.add(new Kind("http.bad-length", this::httpBadLength));
    kinds.add(new Kind("http.big-body", this::httpBigBody));
    kinds.add(new Kind("http.chunked", this::httpChunked));
    kinds.add(new Kind("http.pipelined", this::httpPipelined));
    kinds.add(new Kind("http.method", this::httpMethod));
    kinds.add(new Kind("http.bad-path", this::httpBadPath));
    kinds.add(new Kind("http.traversal", this::httpTraversal));
    kinds.add(new Kind("http.headers", this::httpHeaders));
    kinds.add(new Kind("http.query", this::httpQuery));
    kinds.add(new Kind("ws.upgrade", this::wsUpgrade));
    kinds.add(new Kind("ws.frame.rsv", this::wsRsv));
    kinds.add(new Kind("ws.frame.opcode", this::wsOpcode));
    kinds.add(new Kind("ws.frame.unmasked", this::wsUnmasked));
    kinds.add(new Kind("ws.frame.length", this::wsLength));
    kinds.add(new Kind("ws.frame.truncated", this::wsTruncated));
    kinds.add(new Kind("ws.frame.fragments", this::wsFragments));
    kinds.add(new Kind("ws.frame.control", this::wsControl));
    kinds.add(new Kind("ws.frame.close-code", this::wsCloseCode));
    kinds.add(new Kind("ws.frame.utf8", this::wsUtf8));
    kinds.add(new Kind("ws.frame.binary", this::wsBinary));
    kinds.add(new Kind("ws.frame.oversize", this::wsOversize));
    kinds.add(new Kind("ws.ping-flood", this::wsPingFlood));
    kinds.add(new Kind("ws.abrupt", this::wsAbrupt));
    kinds.add(new Kind("ws.json.malformed", this::jsonMalformed));
    kinds.add(new Kind("ws.json.types", this::jsonTypes));
    kinds.add(new Kind("ws.json.unknown", this::jsonUnknown));
    kinds.add(new Kind("ws.json.names", this::jsonNames));
    kinds.add(new Kind("ws.json.order", this::jsonOrder));
    kinds.add(new Kind("ws.json.storm", this::jsonStorm));
    kinds.add(new Kind("ws.dashboard", this::wsDashboard));
    kinds.add(new Kind("mgmt.write", this::managementWrite));
    kinds.add(new Kind("mgmt.junk", this::managementJunk));
  }

  /** How many kinds of action there are. */
  int kinds() {
    return kinds.size();
  }

  /** Runs one action of a kind {@code random} picks. Never throws. */
  void runRandom(Random random) {
    run(kinds.get(random.nextInt(kinds.size())), random);
  }

  /** Runs one action of kind number {@code kind}, on a node {@code random} picks. Never throws. */
  void runKind(int kind, Random random) {
    run(kinds.get(kind % kinds.size()), random);
  }

  private void run(Kind kind, Random random) {
    Target target = targets.get(random.nextInt(targets.size()));
    Attempt attempt = new Attempt(kind.name(), target, random.nextLong());
    String outcome;
    try {
      outcome = kind.action().run(attempt, new Random(attempt.seed()));
    } catch (NotUpgraded e) {
      outcome = "upgrade:" + e.status;
      if (e.status >= 500) {
        finding(attempt, target.name() + " chat", "a valid WebSocket upgrade answered " + e.status);
      }
    } catch (IOException e) {
      outcome = FuzzSocket.outcome(e);
    } catch (RuntimeException e) {
      outcome = "fuzzer-error";
      finding(attempt, target.name(), "the fuzzer itself failed: " + e);
    }
    if (outcome.endsWith("refused")) {
      finding(attempt, target.name(), "connection refused: the node's port is gone");
    }
    report.record(kind.name(), outcome);
  }

  private void finding(Attempt attempt, String where, String detail) {
    report.finding(attempt.kind(), where, attempt.seed(), detail);
  }

  // ---- helpers ----

  private static <T> T pick(Random random, List<T> from) {
    return from.get(random.nextInt(from.size()));
  }

  private Endpoint endpoint(Target target, Random random) {
    boolean management = random.nextInt(10) < 3;
    return new Endpoint(target, management, path(target, management, random));
  }

  private String path(Target target, boolean management, Random random) {
    if (!management) {
      return pick(random, CHAT_PATHS);
    }
    return random.nextInt(5) == 0
        ? "/cluster/members/" + pick(random, targets).address()
        : pick(random, MANAGEMENT_PATHS);
  }

  /** The rooms the fuzzer's own connections join. */
  static List<String> fuzzRooms() {
    List<String> rooms = new ArrayList<>();
    for (int i = 0; i < FUZZ_ROOMS; i++) {
      rooms.add("fz-" + i);
    }
    return rooms;
  }

  private static String fuzzRoom(Random random) {
    return "fz-" + random.nextInt(FUZZ_ROOMS);
  }

  private static String request(String method, String target, int port, String... headers) {
    StringBuilder out =
        new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    out.append("Host: 127.0.0.1:").append(port).append("\r\n");
    for (String header : headers) {
      out.append(header).append("\r\n");
    }
    return out.append("\r\n").toString();
  }

  private static byte[] bytes(String latin1) {
    return latin1.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.write(part, 0, part.length);
    }
    return out.toByteArray();
  }

  /** {@code s} with control characters and non-ASCII shown as escapes, for a report line. */
  static String printable(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length() && out.length() < 200; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        out.append(String.format(Locale.ROOT, "\\x%02x", (int) c & 0xff));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /**
   * Sends {@code request}, half-closes if asked, reads one response; a 5xx is a finding. A send
   * that fails (the node answered early and closed) still reads what the node answered.
   */
  private String exchange(
      Attempt attempt, Endpoint endpoint, byte[] request, boolean halfClose, boolean head)
      throws IOException {
    try (FuzzSocket socket = FuzzSocket.connect(endpoint.port(), READ_MILLIS, LIFETIME_MILLIS)) {
      IOException sendFailure = null;
      try {
        sendInParts(socket, request);
        if (halfClose) {
          socket.shutdownOutput();
        }
      } catch (IOException e) {
        sendFailure = e;
      }
      FuzzSocket.Response response;
      try {
        response = socket.readResponse(head);
      } catch (IOException e) {
        throw sendFailure != null ? sendFailure : e;
      }
      return status(attempt, endpoint, request, response);
    }
  }

  private static void sendInParts(FuzzSocket socket, byte[] bytes) throws IOException {
    for (int from = 0; from < bytes.length; from += 65_536) {
      socket.send(java.util.Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + 65_536)));
    }
  }

  private String status(
      Attempt attempt, Endpoint endpoint, byte[] request, FuzzSocket.Response response) {
    int status = response.status();
    if (status >= 500 && !PROTOCOL_ANSWERS.contains(status)) {
      finding(
          attempt,
          endpoint.toString(),
          status
              + " to ["
              + printable(
                  new String(
                      request, 0, Math.min(request.length, 300), StandardCharsets.ISO_8859_1))
              + "]: "
              + FuzzSocket.abbreviate(printable(response.text())));
    }
    return Integer.toString(status);
  }

  // ---- HTTP ----

  private String httpGarbage(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    byte[] junk = new byte[1 + random.nextInt(4096)];
    random.nextBytes(junk);
    if (random.nextBoolean()) {
      // junk that looks like a request line
      junk = concat(bytes("GET /"), junk);
    }
    byte[] request = random.nextBoolean() ? concat(junk, bytes("\r\n\r\n")) : junk;
    return exchange(attempt, endpoint, request, true, false);
  }

  private String httpTruncated(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String body = "{\"type\":\"ping\"}";
    String full =
        random.nextBoolean()
            ? request("GET", endpoint.path(), endpoint.port(), "Accept: */*", "X-Fuzz: truncated")
            : request(
                    "POST",
                    endpoint.path(),
                    endpoint.port(),
                    "Content-Type: application/json",
                    "Content-Length: " + body.length())
                + body;
    int cut = 1 + random.nextInt(full.length() - 1);
    byte[] part = bytes(full.substring(0, cut));
    if (random.nextInt(4) > 0) {
      return exchange(attempt, endpoint, part, true, false);
    }
    // stall: part of a request, then nothing; the node waits for the rest (a complete head is
    // answered), and we leave after 800 ms
    try (FuzzSocket socket = FuzzSocket.connect(endpoint.port(), 800, LIFETIME_MILLIS)) {
      socket.send(part);
      return "stalled:" + status(attempt, endpoint, part, socket.readResponse(false));
    } catch (IOException e) {
      return "stalled:" + FuzzSocket.outcome(e);
    }
  }

  private String httpHugeHeader(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String[] headers =
        switch (random.nextInt(6)) {
          case 0 -> new String[] {"X-Fuzz: " + "a".repeat(64 * 1024)};
          case 1 -> new String[] {"X" + "a".repeat(8 * 1024) + ": v"};
          case 2 -> {
            String[] many = new String[200 + random.nextInt(1800)];
            for (int i = 0; i < many.length; i++) {
              many[i] = "X-Fuzz-" + i + ": " + i;
            }
            yield many;
          }
          case 3 -> new String[] {"Cookie: " + "k=v; ".repeat(13_000)};
          case 4 -> new String[] {"X-Fuzz: " + "b".repeat(8 * 1024 + random.nextInt(64))};
          default ->
              new String[] {
                "Upgrade: websocket",
                "Connection: Upgrade",
                "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Key: " + "A".repeat(64 * 1024)
              };
        };
    return exchange(
        attempt,
        endpoint,
        bytes(request("GET", endpoint.path(), endpoint.port(), headers)),
        false,
        false);
  }

  private String httpHugeUri(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    int n = pick(random, List.of(2_100, 8_000, 16 * 1024, 64 * 1024));
    String target =
        random.nextBoolean()
            ? endpoint.path() + "?q=" + "a".repeat(n)
            : endpoint.path() + "/x".repeat(n / 2);
    return exchange(
        attempt, endpoint, bytes(request("GET", target, endpoint.port())), false, false);
  }

  private String httpBadLength(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String body = "{\"type\":\"ping\"}";
    List<String> lengths =
        List.of(
            "Content-Length: -1",
            "Content-Length: abc",
            "Content-Length: 99999999999999999999",
            "Content-Length: 9223372036854775807",
            "Content-Length: 5\r\nContent-Length: 6",
            "Content-Length: 1, 2",
            "Content-Length: +15",
            "Content-Length: 0x0f",
            "Content-Length:  15 ",
            "Content-Length: 1000",
            "Content-Length: 2",
            "Content-Length: ");
    String method = pick(random, List.of("POST", "PUT", "GET"));
    String request =
        request(
                method,
                endpoint.path(),
                endpoint.port(),
                "Content-Type: application/json",
                pick(random, lengths))
            + body;
    return exchange(attempt, endpoint, bytes(request), random.nextBoolean(), false);
  }

  private String httpBigBody(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    long declared = pick(random, List.of(9L << 20, 100L << 20, 1L << 40));
    int sent = (256 << 10) + random.nextInt(7 << 18);
    byte[] body = new byte[sent];
    random.nextBytes(body);
    String head =
        random.nextBoolean()
            ? request(
                pick(random, List.of("POST", "PUT")),
                endpoint.path(),
                endpoint.port(),
                "Content-Type: application/octet-stream",
                "Content-Length: " + declared)
            : request(
                "POST",
                endpoint.path(),
                endpoint.port(),
                "Content-Type: application/json",
                "Transfer-Encoding: chunked");
    byte[] payload =
        head.contains("chunked")
            ? concat(bytes(Integer.toHexString(sent) + "\r\n"), body, bytes("\r\n"))
            : body;
    return exchange(attempt, endpoint, concat(bytes(head), payload), true, false);
  }

  private String httpChunked(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String te = "Transfer-Encoding: chunked";
    List<String[]> variants =
        List.of(
            new String[] {te, "zz\r\nabc\r\n0\r\n\r\n"},
            new String[] {te, "-1\r\nabc\r\n0\r\n\r\n"},
            new String[] {te, "ffffffffffffffffffff\r\nabc\r\n"},
            new String[] {te, "5;" + "x".repeat(10_000) + "\r\nhello\r\n0\r\n\r\n"},
            new String[] {te, "5\r\nhelloXX0\r\n\r\n"},
            new String[] {te + "\r\nContent-Length: 5", "5\r\nhello\r\n0\r\n\r\n"},
            new String[] {"Transfer-Encoding: gzip, chunked", "5\r\nhello\r\n0\r\n\r\n"},
            new String[] {te + "\r\nTransfer-Encoding: identity", "5\r\nhello\r\n0\r\n\r\n"},
            new String[] {"Transfer-Encoding : chunked", "5\r\nhello\r\n0\r\n\r\n"},
            new String[] {"Transfer-Encoding: xchunked", "5\r\nhello\r\n0\r\n\r\n"},
            new String[] {te, "5\r\nhello\r\n"},
            new String[] {te, "1\r\na\r\n".repeat(20_000) + "0\r\n\r\n"},
            new String[] {te, "0\r\nX-Trailer: y\r\nbad trailer\r\n\r\n"},
            new String[] {te, "100000\r\n" + "a".repeat(1000)});
    String[] variant = pick(random, variants);
    String request =
        request(
                pick(random, List.of("POST", "PUT", "GET")),
                endpoint.path(),
                endpoint.port(),
                variant[0])
            + variant[1];
    return exchange(attempt, endpoint, bytes(request), random.nextBoolean(), false);
  }

  private String httpPipelined(Attempt attempt, Random random) throws IOException {
    boolean management = random.nextInt(4) == 0;
    Target target = attempt.target();
    int n = 2 + random.nextInt(40);
    int bad = random.nextInt(3) == 0 ? random.nextInt(n) : -1;
    List<Endpoint> endpoints = new ArrayList<>();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < n; i++) {
      Endpoint endpoint = new Endpoint(target, management, path(target, management, random));
      endpoints.add(endpoint);
      byte[] one =
          i == bad
              ? bytes("GET /\u00ff junk HTTP/1.1\r\n\r\n")
              : bytes(request("GET", endpoint.path(), endpoint.port()));
      all.write(one, 0, one.length);
    }
    try (FuzzSocket socket =
        FuzzSocket.connect(endpoints.get(0).port(), READ_MILLIS, LIFETIME_MILLIS)) {
      socket.send(all.toByteArray());
      int answered = 0;
      try {
        for (int i = 0; i < n; i++) {
          status(attempt, endpoints.get(i), all.toByteArray(), socket.readResponse(false));
          answered++;
        }
      } catch (IOException e) {
        return (bad >= 0 && answered == bad + 1 ? "cut after the bad one:" : "cut:")
            + FuzzSocket.outcome(e);
      }
      return "all answered";
    }
  }

  private String httpMethod(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String method =
        pick(
            random,
            List.of(
                "PUT",
                "DELETE",
                "PATCH",
                "OPTIONS",
                "TRACE",
                "CONNECT",
                "HEAD",
                "POST",
                "PROPFIND",
                "MKCOL",
                "GETT",
                "get",
                "G\u0000ET",
                "X".repeat(20),
                "BREW",
                "PRI"));
    String body = "{\"type\":\"join\",\"room\":\"fz-0\",\"user\":\"m\"}";
    String target = method.equals("CONNECT") ? "127.0.0.1:80" : endpoint.path();
    String request =
        random.nextBoolean()
            ? request(method, target, endpoint.port())
            : request(
                    method,
                    target,
                    endpoint.port(),
                    "Content-Type: application/json",
                    "Content-Length: " + body.length())
                + body;
    return exchange(attempt, endpoint, bytes(request), false, method.equals("HEAD"));
  }

  private String httpBadPath(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String path =
        pick(
            random,
            List.of(
                "/%ff%fe",
                "/\u00ff\u00fe",
                "/%",
                "/%z",
                "/%zz",
                "/%u0041",
                "/%00",
                "/a%00b",
                "/\u0000",
                "/ws%20",
                "/ws%2f",
                "/ws/",
                "/ws?",
                "/ws#frag",
                "/WS",
                "/ws;jsessionid=1",
                "/" + "/".repeat(1000),
                "/\\ws",
                "/%E2%80%AE",
                "/%ED%A0%80",
                "/%C0%80",
                "/metrics\t",
                "/\u00f0\u009f\u0098\u0080",
                "*",
                "ws",
                "/?" + "%".repeat(100),
                "/api/dashboard/",
                "/api//dashboard",
                "/dashboard/ws/x",
                "/metrics/%2e"));
    return exchange(attempt, endpoint, bytes(request("GET", path, endpoint.port())), false, false);
  }

  private String httpTraversal(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String path =
        pick(
            random,
            List.of(
                "/../../../../etc/passwd",
                "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                "/..%2f..%2f..%2fetc%2fpasswd",
                "/chat.js/../../application.conf",
                "/web/../application.conf",
                "/application.conf",
                "/reference.conf",
                "/logback.xml",
                "/web/index.html",
                "/..%5c..%5capplication.conf",
                "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
                "/.%2e/.%2e/application.conf",
                "//etc/passwd",
                "/./chat.js",
                "/chat.js%00.html",
                "/META-INF/MANIFEST.MF",
                "/dev/troupe/samples/chat/ChatApp.class",
                "/style.css/..%2fapplication.conf",
                "/dashboard/../application.conf",
                "/....//....//etc/passwd",
                "/%252e%252e/%252e%252e/etc/passwd",
                "/file:///etc/passwd",
                "/chat.js;/../application.conf",
                "/..;/application.conf",
                "/web/%2e%2e/application.conf"));
    try (FuzzSocket socket = FuzzSocket.connect(endpoint.port(), READ_MILLIS, LIFETIME_MILLIS)) {
      byte[] request = bytes(request("GET", path, endpoint.port()));
      socket.send(request);
      FuzzSocket.Response response = socket.readResponse(false);
      String body = response.text();
      if (response.status() == 200
          && !publicBodies.contains(body)
          && !body.startsWith("{\"time\"")
          && !body.contains("# HELP")
          && !endpoint.management()) {
        finding(
            attempt,
            endpoint.toString(),
            "200 for "
                + printable(path)
                + " with a body that is none of the public files: "
                + FuzzSocket.abbreviate(printable(body)));
      }
      String status =
          status(
              attempt,
              new Endpoint(endpoint.target(), endpoint.management(), path),
              request,
              response);
      return response.status() == 404 ? status : status + " " + printable(path);
    }
  }

  private String httpHeaders(Attempt attempt, Random random) throws IOException {
    Endpoint endpoint = endpoint(attempt.target(), random);
    String p = endpoint.path();
    int port = endpoint.port();
    String host = "Host: 127.0.0.1:" + port + "\r\n";
    String staticPath = pick(random, STATIC_PATHS);
    String ranges = "0-0,".repeat(20) + "1-1";
    List<String> variants =
        List.of(
            "GET " + p + " HTTP/1.1\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + host + "\r\n",
            "GET " + p + " HTTP/1.1\r\nHost: \r\n\r\n",
            "GET " + p + " HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\nHost: [::1\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\nHost: " + "a".repeat(3000) + "\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "NoColonHere\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "X-Fold: a\r\n folded\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "X-\u0000: y\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "X-Nul: a\u0000b\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "X-Cr: a\rb\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "X-High: \u00ff\u00fe\u0080\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "Bad Name: x\r\n\r\n",
            "GET " + p + "\r\n\r\n",
            "GET " + p + " HTTP/2.0\r\n" + host + "\r\n",
            "GET " + p + " HTTP/1.2\r\n" + host + "\r\n",
            "GET " + p + " HTTP/9.9\r\n" + host + "\r\n",
            "GET " + p + " http/1.1\r\n" + host + "\r\n",
            "GET " + p + " HTTP/1.1 extra\r\n" + host + "\r\n",
            "GET  " + p + "  HTTP/1.1\r\n" + host + "\r\n",
            "GET http://evil.example" + p + " HTTP/1.1\r\n" + host + "\r\n",
            "GET http://127.0.0.1:" + port + "/metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\n" + host + "\r\n",
            "POST "
                + p
                + " HTTP/1.1\r\n"
                + host
                + "Expect: 100-continue\r\nContent-Length: 10\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "Expect: 999-junk\r\n\r\n",
            "GET "
                + p
                + " HTTP/1.1\r\n"
                + host
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "Accept-Encoding: gzip;q=abc, *;q=-1\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "Accept: */*;q=2, text/html;level=\r\n\r\n",
            "GET " + staticPath + " HTTP/1.1\r\n" + host + "Range: bytes=junk\r\n\r\n",
            "GET " + staticPath + " HTTP/1.1\r\n" + host + "Range: bytes=5-1\r\n\r\n",
            "GET " + staticPath + " HTTP/1.1\r\n" + host + "Range: bytes=-0\r\n\r\n",
            "GET " + staticPath + " HTTP/1.1\r\n" + host + "Range: bytes=" + ranges + "\r\n\r\n",
            "GET "
                + staticPath
                + " HTTP/1.1\r\n"
                + host
                + "Range: bytes=0-99999999999999999999\r\n\r\n",
            "GET " + staticPath + " HTTP/1.1\r\n" + host + "Range: lines=1-2\r\n\r\n",
            "GET " + staticPath + " HTTP/1.1\r\n" + host + "If-Modified-Since: junk\r\n\r\n",
            "GET "
                + staticPath
                + " HTTP/1.1\r\n"
                + host
                + "If-None-Match: "
                + "\"x\",".repeat(1500)
                + "\"y\"\r\n\r\n",
            "GET "
                + staticPath
                + " HTTP/1.1\r\n"
                + host
                + "If-Range: junk\r\nRange: bytes=0-1\r\n\r\n",
            "POST "
                + p
                + " HTTP/1.1\r\n"
                + host
                + "Content-Type: multipart/form-data; boundary="
                + "x".repeat(5000)
                + "\r\nContent-Length: 4\r\n\r\nabcd",
            "GET " + p + " HTTP/1.1\r\n" + host + "Authorization: Basic !!!\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "X-Forwarded-For: \u00ff, , ;\r\n\r\n",
            "GET " + p + " HTTP/1.1\r\n" + host + "Origin: \u00ff\r\n\r\n",
            "GET "
                + p
                + " HTTP/1.1\r\n"
                + host
                + "Connection: close\r\n\r\n"
                + "GET "
                + p
                + " HTTP/1.1\r\n"
                + host
                + "\r\n",
            "GET " + p + " HTTP/1.0\r\n\r\n");
    String request = pick(random, variants);
    boolean halfClose = request.startsWith("POST") && request.contains("Expect: 100");
    return exchange(attempt, endpoint, bytes(request), halfClose, false);
  }

  private String httpQuery(Attempt attempt, Random random) throws IOException {
    Target target = attempt.target();
    boolean management = random.nextInt(4) == 0;
    String path =
        management
            ? pick(random, List.of("/ready", "/alive", "/cluster/members"))
            : pick(random, List.of("/api/dashboard", "/metrics", "/", "/ws", "/dashboard"));
    String query =
        pick(
            random,
            List.of(
                "%",
                "%zz",
                "a=%ff",
                "a=" + "b".repeat(1800),
                "a[]=1&a[]=2",
                ";;;",
                "a==b&&c",
                "\u00ff\u00fe",
                "%00",
                String.join("&", java.util.Collections.nCopies(500, "a=1")),
                "name=jvm_memory_used_bytes",
                "#frag",
                "?".repeat(100),
                "name[]=jvm_info&name[]=chat_connections",
                "x=%F0%9F%98%80&y=%ED%A0%80"));
    Endpoint endpoint = new Endpoint(target, management, path + "?" + query);
    return exchange(
        attempt,
        endpoint,
        bytes(
            request(
                "GET",
                endpoint.path(),
                endpoint.port(),
                "Accept: "
                    + pick(
                        random,
                        List.of(
                            "*/*",
                            "junk",
                            "text/plain;version=0.0.4",
                            "application/openmetrics-text")))),
        false,
        false);
  }

  // ---- WebSocket upgrades ----

  private String wsUpgrade(Attempt attempt, Random random) throws IOException {
    Target target = attempt.target();
    String path = random.nextInt(4) == 0 ? "/dashboard/ws" : "/ws";
    int port = target.httpPort();
    String self = "http://127.0.0.1:" + port;
    String key = "Sec-WebSocket-Key: " + FuzzSocket.webSocketKey(random);
    String upgrade = "Upgrade: websocket";
    String connection = "Connection: Upgrade";
    String version = "Sec-WebSocket-Version: 13";
    String origin = "Origin: " + self;
    // each variant: the request and the origin it claims (null: the page's own or none)
    int variant = random.nextInt(25);
    String foreign = null;
    String request =
        switch (variant) {
          case 0 -> request("GET", path, port, upgrade, connection, version, origin);
          case 1 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  "Sec-WebSocket-Key: abc",
                  version,
                  origin);
          case 2 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  "Sec-WebSocket-Key: " + "!".repeat(24),
                  version,
                  origin);
          case 3 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  "Sec-WebSocket-Key: " + "A".repeat(200),
                  version,
                  origin);
          case 4 ->
              request(
                  "GET", path, port, upgrade, connection, key, "Sec-WebSocket-Version: 8", origin);
          case 5 ->
              request(
                  "GET", path, port, upgrade, connection, key, "Sec-WebSocket-Version: 99", origin);
          case 6 -> request("GET", path, port, upgrade, connection, key, origin);
          case 7 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  key,
                  "Sec-WebSocket-Version: 13, 8",
                  origin);
          case 8 -> request("GET", path, port, connection, key, version, origin);
          case 9 ->
              request("GET", path, port, "Upgrade: websocket2", connection, key, version, origin);
          case 10 ->
              request("GET", path, port, upgrade, "Connection: keep-alive", key, version, origin);
          case 11 ->
              request(
                  "POST",
                  path,
                  port,
                  upgrade,
                  connection,
                  key,
                  version,
                  origin,
                  "Content-Length: 0");
          case 12 ->
              ("GET " + path + " HTTP/1.0\r\n")
                  + String.join("\r\n", upgrade, connection, key, version, origin)
                  + "\r\n\r\n";
          case 13 -> {
            foreign = "http://evil.example";
            yield request(
                "GET", path, port, upgrade, connection, key, version, "Origin: " + foreign);
          }
          case 14 -> {
            foreign = "null";
            yield request("GET", path, port, upgrade, connection, key, version, "Origin: null");
          }
          case 15 -> {
            foreign = "http://evil.example";
            yield request(
                "GET", path, port, upgrade, connection, key, version, "Origin: " + foreign, origin);
          }
          case 16 -> {
            foreign = self + ".evil.example";
            yield request(
                "GET", path, port, upgrade, connection, key, version, "Origin: " + foreign);
          }
          case 17 -> {
            foreign = "http://127.0.0.1:" + (port == 1 ? 2 : port - 1);
            yield request(
                "GET", path, port, upgrade, connection, key, version, "Origin: " + foreign);
          }
          case 18 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  key,
                  version,
                  origin,
                  "Sec-WebSocket-Protocol: \u00ff, ,junk");
          case 19 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  key,
                  version,
                  origin,
                  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits");
          case 20 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  key,
                  version,
                  origin,
                  "Sec-WebSocket-Extensions: x-junk;;;=");
          case 21 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  connection,
                  "Sec-WebSocket-Key:  " + FuzzSocket.webSocketKey(random) + "  ",
                  version,
                  origin);
          case 22 ->
              request("GET", path, port, "Upgrade: WebSocket", connection, key, version, origin);
          case 23 ->
              request(
                  "GET",
                  path,
                  port,
                  upgrade,
                  "Connection: keep-alive, Upgrade",
                  key,
                  version,
                  origin);
          default -> {
            foreign = "http://evil.example";
            yield request(
                "GET",
                path,
                port,
                upgrade,
                connection,
                key,
                version,
                "Origin: " + foreign + "\u0000");
          }
        };
    Endpoint endpoint = new Endpoint(target, false, path);
    try (FuzzSocket socket = FuzzSocket.connect(port, READ_MILLIS, LIFETIME_MILLIS)) {
      byte[] bytes = bytes(request);
      socket.send(bytes);
      FuzzSocket.Response response = socket.readResponse(false);
      if (response.status() == 101) {
        if (foreign != null) {
          finding(
              attempt,
              endpoint.toString(),
              "101 to a WebSocket from the foreign origin " + printable(foreign));
        }
        socket.send(FuzzSocket.close(1000, new byte[0], random));
      }
      return "v" + variant + ":" + status(attempt, endpoint, bytes, response);
    }
  }

  /** A WebSocket on {@code path} of {@code target}: a well-formed upgrade, answered 101. */
  private static FuzzSocket open(Target target, String path, Random random) throws IOException {
    FuzzSocket socket = FuzzSocket.connect(target.httpPort(), READ_MILLIS, LIFETIME_MILLIS);
    try {
      socket.send(FuzzSocket.upgradeRequest(path, target.httpPort(), random));
      FuzzSocket.Response response = socket.readResponse(false);
      if (response.status() != 101) {
        throw new NotUpgraded(response.status());
      }
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private static String wsPath(Random random) {
    return random.nextInt(4) == 0 ? "/dashboard/ws" : "/ws";
  }

  /**
   * After something the node must refuse: its close code, or (still open after a short wait)
   * whether it still answers ({@link #alive}).
   */
  private static String after(FuzzSocket socket, String path, Random random) throws IOException {
    socket.readTimeout(800);
    long until = System.nanoTime() + 800_000_000L;
    try {
      while (System.nanoTime() < until) {
        FuzzSocket.Frame frame = socket.readFrame();
        if (frame.opcode() == 0x8) {
          return "close:" + frame.closeCode();
        }
      }
    } catch (SocketTimeoutException e) {
      // nothing more: still open
    } catch (IOException e) {
      return FuzzSocket.outcome(e);
    }
    socket.readTimeout(READ_MILLIS);
    return "open," + alive(socket, path, random);
  }

  /**
   * Whether the connection still works: on {@code /ws} a {@code ping} command answered by {@code
   * pong} (after any {@code error} frames), on {@code /dashboard/ws} a snapshot.
   */
  private static String alive(FuzzSocket socket, String path, Random random) throws IOException {
    boolean dashboard = path.startsWith("/dashboard");
    if (!dashboard) {
      socket.send(FuzzSocket.text("{\"type\":\"ping\"}", random));
    }
    boolean errors = false;
    long until = System.nanoTime() + 5_000_000_000L;
    try {
      while (System.nanoTime() < until) {
        FuzzSocket.Frame frame = socket.readFrame();
        if (frame.opcode() == 0x8) {
          return (errors ? "error," : "") + "close:" + frame.closeCode();
        }
        if (frame.opcode() != 0x1) {
          continue;
        }
        String text = frame.text();
        if (dashboard) {
          return "snapshot";
        }
        if (text.contains("\"type\":\"pong\"")) {
          return errors ? "error,pong" : "pong";
        }
        errors |= text.contains("\"type\":\"error\"");
      }
      return "no answer";
    } catch (IOException e) {
      return (errors ? "error," : "") + FuzzSocket.outcome(e);
    }
  }

  // ---- WebSocket frames ----

  private String wsRsv(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      int rsv = 1 + random.nextInt(7);
      socket.send(
          FuzzSocket.frame(
              0x80 | (rsv << 4) | 0x1,
              true,
              "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8),
              -1,
              random));
      return after(socket, path, random);
    }
  }

  private String wsOpcode(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      int opcode = pick(random, List.of(3, 4, 5, 6, 7, 11, 12, 13, 14, 15));
      byte[] payload = new byte[random.nextInt(100)];
      random.nextBytes(payload);
      socket.send(FuzzSocket.frame(0x80 | opcode, true, payload, -1, random));
      return after(socket, path, random);
    }
  }

  private String wsUnmasked(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      int opcode = pick(random, List.of(0x1, 0x2, 0x9));
      socket.send(
          FuzzSocket.frame(
              0x80 | opcode,
              false,
              "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8),
              -1,
              random));
      return after(socket, path, random);
    }
  }

  private String wsLength(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      byte[] small = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
      int variant = random.nextInt(5);
      switch (variant) {
        case 0 -> {
          // claims 1000 bytes, sends 15, ends the stream
          socket.send(FuzzSocket.frame(0x81, true, small, 1000, random));
          socket.shutdownOutput();
        }
        case 1 -> socket.send(FuzzSocket.frame(0x81, true, small, Long.MAX_VALUE, random));
        case 2 ->
            socket.send(FuzzSocket.frame(0x81, true, small, -2L & 0xffffffffffffffffL, random));
        case 3 -> {
          // a 16-bit length for a 15-byte payload: not the minimal encoding
          byte[] key = new byte[4];
          random.nextBytes(key);
          byte[] masked = new byte[small.length];
          for (int i = 0; i < small.length; i++) {
            masked[i] = (byte) (small[i] ^ key[i & 3]);
          }
          socket.send(
              concat(
                  new byte[] {(byte) 0x81, (byte) (0x80 | 126), 0, (byte) small.length},
                  key,
                  masked));
        }
        default -> {
          // claims a terabyte, sends 64 KiB of it, ends the stream
          byte[] part = new byte[64 * 1024];
          java.util.Arrays.fill(part, (byte) 'a');
          byte[] frame = FuzzSocket.frame(0x81, true, part, 1L << 40, random);
          sendInParts(socket, frame);
          socket.shutdownOutput();
        }
      }
      return "v" + variant + ":" + after(socket, path, random);
    }
  }

  private String wsTruncated(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      byte[] frame =
          FuzzSocket.text("{\"type\":\"join\",\"room\":\"fz-1\",\"user\":\"t\"}", random);
      int cut = 1 + random.nextInt(frame.length - 1);
      socket.send(java.util.Arrays.copyOf(frame, cut));
      switch (random.nextInt(3)) {
        case 0 -> {
          socket.abort();
          return "reset sent";
        }
        case 1 -> {
          socket.shutdownOutput();
          return after(socket, path, random);
        }
        default -> {
          return "closed";
        }
      }
    }
  }

  private String wsFragments(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      byte[] start = "{\"type\":\"pi".getBytes(StandardCharsets.UTF_8);
      byte[] end = "ng\"}".getBytes(StandardCharsets.UTF_8);
      int variant = random.nextInt(8);
      switch (variant) {
        case 0 ->
            socket.send(
                FuzzSocket.frame(0x80, true, "abc".getBytes(StandardCharsets.UTF_8), -1, random));
        case 1 ->
            socket.send(
                concat(
                    FuzzSocket.frame(0x01, true, start, -1, random),
                    FuzzSocket.frame(0x81, true, end, -1, random)));
        case 2 ->
            socket.send(
                concat(
                    FuzzSocket.frame(0x01, true, start, -1, random),
                    FuzzSocket.frame(0x82, true, end, -1, random)));
        case 3 ->
            // legal: a ping between the fragments of a message
            socket.send(
                concat(
                    FuzzSocket.frame(0x01, true, start, -1, random),
                    FuzzSocket.frame(0x89, true, new byte[] {1, 2, 3}, -1, random),
                    FuzzSocket.frame(0x80, true, end, -1, random)));
        case 4 -> {
          // a thousand fragments of one byte: "{" + spaces + "}"
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          byte[] first = FuzzSocket.frame(0x01, true, new byte[] {'{'}, -1, random);
          out.write(first, 0, first.length);
          for (int i = 0; i < 998; i++) {
            byte[] middle = FuzzSocket.frame(0x00, true, new byte[] {' '}, -1, random);
            out.write(middle, 0, middle.length);
          }
          byte[] last = FuzzSocket.frame(0x80, true, new byte[] {'}'}, -1, random);
          out.write(last, 0, last.length);
          socket.send(out.toByteArray());
        }
        case 5 -> {
          // fragments adding up to more than chat.max-frame-bytes
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          byte[] kib = "x".repeat(1024).getBytes(StandardCharsets.UTF_8);
          byte[] first =
              FuzzSocket.frame(
                  0x01,
                  true,
                  "{\"type\":\"ping\",\"x\":\"".getBytes(StandardCharsets.UTF_8),
                  -1,
                  random);
          out.write(first, 0, first.length);
          int n = MAX_FRAME_BYTES / 1024 + 2 + random.nextInt(20);
          for (int i = 0; i < n; i++) {
            byte[] middle = FuzzSocket.frame(0x00, true, kib, -1, random);
            out.write(middle, 0, middle.length);
          }
          byte[] last =
              FuzzSocket.frame(0x80, true, "\"}".getBytes(StandardCharsets.UTF_8), -1, random);
          out.write(last, 0, last.length);
          socket.send(out.toByteArray());
        }
        case 6 ->
            // a message never finished, then a close
            socket.send(
                concat(
                    FuzzSocket.frame(0x01, true, start, -1, random),
                    FuzzSocket.close(1000, new byte[0], random)));
        default -> socket.send(FuzzSocket.frame(0x00, true, end, -1, random));
      }
      return "v" + variant + ":" + after(socket, path, random);
    }
  }

  private String wsControl(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      int variant = random.nextInt(7);
      byte[] frame =
          switch (variant) {
            case 0 -> FuzzSocket.frame(0x9, new byte[126 + random.nextInt(1000)], random);
            case 1 -> FuzzSocket.frame(0x09, true, new byte[] {1}, -1, random);
            case 2 -> FuzzSocket.frame(0xA, new byte[] {1, 2}, random);
            case 3 -> FuzzSocket.frame(0x9, new byte[125], random);
            case 4 -> FuzzSocket.frame(0x8, new byte[] {3}, random);
            case 5 ->
                FuzzSocket.close(1000, "r".repeat(123).getBytes(StandardCharsets.UTF_8), random);
            default -> FuzzSocket.frame(0x8, new byte[200], random);
          };
      socket.send(frame);
      return "v" + variant + ":" + after(socket, path, random);
    }
  }

  private String wsCloseCode(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      int code =
          pick(
              random,
              List.of(0, 999, 1000, 1004, 1005, 1006, 1015, 1016, 2999, 3000, 4999, 5000, 65535));
      byte[] reason =
          random.nextBoolean()
              ? new byte[] {(byte) 0xff, (byte) 0xfe}
              : "bye".getBytes(StandardCharsets.UTF_8);
      socket.send(FuzzSocket.close(code, reason, random));
      String outcome = after(socket, path, random);
      return (reason.length == 2 ? "bad-utf8 " : "")
          + (isValidCloseCode(code) ? "valid:" : "invalid:")
          + outcome;
    }
  }

  private static boolean isValidCloseCode(int code) {
    return (code >= 1000 && code <= 1003)
        || (code >= 1007 && code <= 1014)
        || (code >= 3000 && code <= 4999);
  }

  private String wsUtf8(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      List<byte[]> bad =
          List.of(
              new byte[] {(byte) 0xff},
              new byte[] {(byte) 0xc0, (byte) 0xaf},
              new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
              new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
              new byte[] {(byte) 0xe2, (byte) 0x82},
              new byte[] {(byte) 0x80});
      byte[] head = "{\"type\":\"ping\",\"x\":\"".getBytes(StandardCharsets.UTF_8);
      byte[] tail = "\"}".getBytes(StandardCharsets.UTF_8);
      if (random.nextInt(4) == 0) {
        // legal: a euro sign split between two fragments
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8);
        socket.send(
            concat(
                FuzzSocket.frame(0x01, true, concat(head, new byte[] {euro[0]}), -1, random),
                FuzzSocket.frame(
                    0x80, true, concat(new byte[] {euro[1], euro[2]}, tail), -1, random)));
        return "split-valid:" + after(socket, path, random);
      }
      byte[] payload =
          random.nextInt(3) == 0 ? pick(random, bad) : concat(head, pick(random, bad), tail);
      socket.send(FuzzSocket.frame(0x1, payload, random));
      return after(socket, path, random);
    }
  }

  private String wsBinary(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      byte[] payload =
          new byte
              [random.nextBoolean() ? 1 + random.nextInt(4000) : 20_000 + random.nextInt(200_000)];
      random.nextBytes(payload);
      sendInParts(socket, FuzzSocket.frame(0x2, payload, random));
      return alive(socket, path, random);
    }
  }

  private String wsOversize(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      int size = pick(random, List.of(MAX_FRAME_BYTES + 1, 64 * 1024, 1 << 20));
      String text = "{\"type\":\"ping\",\"x\":\"" + "y".repeat(size) + "\"}";
      sendInParts(socket, FuzzSocket.text(text, random));
      return alive(socket, path, random);
    }
  }

  private String wsPingFlood(Attempt attempt, Random random) throws IOException {
    String path = wsPath(random);
    try (FuzzSocket socket = open(attempt.target(), path, random)) {
      int n = 100 + random.nextInt(900);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < n; i++) {
        byte[] payload = new byte[random.nextInt(64)];
        random.nextBytes(payload);
        byte[] ping = FuzzSocket.frame(0x9, payload, random);
        out.write(ping, 0, ping.length);
      }
      socket.send(out.toByteArray());
      return alive(socket, path, random);
    }
  }

  private String wsAbrupt(Attempt attempt, Random random) throws IOException {
    int variant = random.nextInt(5);
    List<FuzzSocket> sockets = new ArrayList<>();
    try {
      int count = variant == 4 ? 5 : 1;
      for (int i = 0; i < count; i++) {
        FuzzSocket socket = open(attempt.target(), wsPath(random), random);
        sockets.add(socket);
        switch (variant) {
          case 1 ->
              socket.send(
                  java.util.Arrays.copyOf(FuzzSocket.text("{\"type\":\"ping\"}", random), 5));
          case 2 ->
              socket.send(
                  FuzzSocket.text(
                      "{\"type\":\"join\",\"room\":\""
                          + fuzzRoom(random)
                          + "\",\"user\":\"abrupt\"}",
                      random));
          case 3 -> {
            socket.send(
                FuzzSocket.text(
                    "{\"type\":\"join\",\"room\":\"fz-0\",\"user\":\"abrupt\"}", random));
            for (int p = 0; p < 10; p++) {
              socket.send(
                  FuzzSocket.text(
                      "{\"type\":\"post\",\"room\":\"fz-0\",\"id\":\"a"
                          + p
                          + "\",\"text\":\"abrupt "
                          + p
                          + "\"}",
                      random));
            }
          }
          default -> {
            // nothing: dropped at once
          }
        }
      }
      if (random.nextBoolean()) {
        sockets.forEach(FuzzSocket::abort);
        return "v" + variant + ":reset sent";
      }
      for (FuzzSocket socket : sockets) {
        socket.shutdownOutput();
      }
      return "v" + variant + ":half-closed";
    } finally {
      sockets.forEach(FuzzSocket::close);
    }
  }

  // ---- JSON commands ----

  /** {@code s} as a JSON string, every non-ASCII char (lone surrogates too) as a \\u escape. */
  static String json(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  /** Sends {@code frames} as text frames on a new {@code /ws}, then checks it still answers. */
  private static String commands(Target target, Random random, List<String> frames)
      throws IOException {
    try (FuzzSocket socket = open(target, "/ws", random)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (String frame : frames) {
        byte[] bytes = FuzzSocket.text(frame, random);
        out.write(bytes, 0, bytes.length);
      }
      sendInParts(socket, out.toByteArray());
      return alive(socket, "/ws", random);
    }
  }

  private String jsonMalformed(Attempt attempt, Random random) throws IOException {
    List<String> frames = new ArrayList<>();
    int n = 1 + random.nextInt(5);
    for (int i = 0; i < n; i++) {
      String join = "{\"type\":\"join\",\"room\":\"" + fuzzRoom(random) + "\",\"user\":\"m\"}";
      int depth = pick(random, List.of(100, 600, 1500, 3000, 7000));
      frames.add(
          switch (random.nextInt(22)) {
            case 0 -> join.substring(0, 1 + random.nextInt(join.length() - 1));
            case 1 -> "{\"type\":\"ping\"} xyz";
            case 2 -> "{\"type\":\"ping\"}{\"type\":\"ping\"}";
            case 3 -> "{'type':'ping'}";
            case 4 -> "/*x*/{\"type\":\"ping\"}";
            case 5 -> "\uFEFF{\"type\":\"ping\"}";
            case 6 -> "{\"type\":\"post\",\"room\":\"fz-0\",\"text\":NaN}";
            case 7 -> "{type:\"ping\"}";
            case 8 -> pick(random, List.of("", " ", "null", "[]", "42", "\"ping\"", "true", "{}"));
            case 9 -> "[".repeat(depth);
            case 10 -> "[".repeat(depth / 2) + "]".repeat(depth / 2);
            case 11 -> "{\"a\":".repeat(depth / 5) + "1" + "}".repeat(depth / 5);
            case 12 -> "{\"type\":\"ping\",\"x\":" + "{\"a\":".repeat(depth / 5);
            case 13 -> "{\"type\":\"join\",\"type\":\"post\",\"room\":\"fz-0\",\"text\":\"dup\"}";
            case 14 -> "{\"type\":\"\\u0070ing\"}";
            case 15 -> "{\"type\":\"pi\\u0000ng\"}";
            case 16 -> randomUnicode(random, 1 + random.nextInt(500));
            case 17 -> "{\"type\":\"ping\",\"pad\":\"" + "x".repeat(7000) + "\"}";
            case 18 -> {
              StringBuilder keys = new StringBuilder("{\"type\":\"ping\"");
              for (int k = 0; k < 700; k++) {
                keys.append(",\"k").append(k).append("\":").append(k);
              }
              yield keys.append('}').toString();
            }
            case 19 -> "{\"type\":\"ping\",\"s\":\"\\ud800\\u\"}";
            case 20 -> "{\"type\":\"ping\"" + ",".repeat(3000) + "}";
            default -> "\"" + "\\\"".repeat(2000) + "\"";
          });
    }
    return commands(attempt.target(), random, frames);
  }

  private static String randomUnicode(Random random, int codePoints) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < codePoints; i++) {
      int cp = random.nextInt(4) == 0 ? random.nextInt(0x80) : random.nextInt(0x10FFFF);
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        cp = 0xFFFD;
      }
      out.appendCodePoint(cp);
    }
    return out.toString();
  }

  private String jsonTypes(Attempt attempt, Random random) throws IOException {
    String room = fuzzRoom(random);
    String r = "\"room\":\"" + room + "\"";
    List<String> frames = new ArrayList<>();
    frames.add("{\"type\":\"join\"," + r + ",\"user\":\"types\"}");
    int n = 1 + random.nextInt(6);
    for (int i = 0; i < n; i++) {
      frames.add(
          pick(
              random,
              List.of(
                  "{\"type\":5}",
                  "{\"type\":null}",
                  "{\"type\":[\"join\"]}",
                  "{\"type\":{\"a\":1}}",
                  "{\"type\":true}",
                  "{\"type\":\"join\",\"room\":[\"fz-1\"],\"user\":\"u\"}",
                  "{\"type\":\"join\",\"room\":{\"x\":1},\"user\":\"u\"}",
                  "{\"type\":\"join\"," + r + ",\"user\":{\"n\":\"x\"}}",
                  "{\"type\":\"join\"," + r + ",\"user\":12345678901234567890123}",
                  "{\"type\":\"join\"," + r + ",\"user\":1e999999}",
                  "{\"type\":\"post\"," + r + ",\"text\":[\"a\"],\"id\":\"x\"}",
                  "{\"type\":\"post\"," + r + ",\"text\":{\"a\":\"b\"},\"id\":{\"a\":1}}",
                  "{\"type\":\"post\"," + r + ",\"text\":\"hi\",\"id\":1e999999}",
                  "{\"type\":\"post\"," + r + ",\"text\":\"hi\",\"id\":1e308}",
                  "{\"type\":\"post\"," + r + ",\"text\":\"hi\",\"id\":-0}",
                  "{\"type\":\"post\","
                      + r
                      + ",\"text\":\"hi\",\"id\":123456789012345678901234567890}",
                  "{\"type\":\"post\"," + r + ",\"text\":12.5,\"id\":\"n\"}",
                  "{\"type\":\"post\"," + r + ",\"text\":null,\"id\":null}",
                  "{\"type\":\"leave\",\"room\":null}",
                  "{\"type\":\"leave\",\"room\":true}",
                  "{\"type\":\"ping\",\"n\":" + "9".repeat(1200) + "}",
                  "{\"type\":\"ping\",\"n\":" + "9".repeat(5000) + "}",
                  "{\"type\":\"ping\",\"n\":1e99999999999}",
                  "{\"type\":\"ping\",\"n\":-1e-9999999}",
                  "{\"type\":\"ping\",\"n\":0." + "0".repeat(900) + "1}",
                  "{\"type\":\"post\"," + r + "}",
                  "{\"type\":\"join\"}")));
    }
    return commands(attempt.target(), random, frames);
  }

  private String jsonUnknown(Attempt attempt, Random random) throws IOException {
    List<String> frames = new ArrayList<>();
    int n = 1 + random.nextInt(4);
    for (int i = 0; i < n; i++) {
      String type =
          pick(
              random,
              List.of(
                  "JOIN",
                  "join ",
                  "\u0000",
                  "__proto__",
                  "constructor",
                  "x".repeat(5000),
                  "pong",
                  "history",
                  "ack",
                  "error",
                  "message",
                  "presence",
                  "notice",
                  "leave-all",
                  randomUnicode(random, 8)));
      frames.add("{\"type\":" + json(type) + ",\"room\":\"fz-0\",\"id\":\"u\",\"seq\":1}");
    }
    return commands(attempt.target(), random, frames);
  }

  /** Names and texts at and past every limit, odd characters included. */
  private static final List<String> ODD =
      List.of(
          "x".repeat(32),
          "x".repeat(33),
          "x".repeat(5000),
          " ",
          "\t",
          "\u0000",
          "a\u0000b",
          "\ud800",
          "\udfff",
          "a\ud800b",
          "\ud800\ud800",
          "\udbff\udfff",
          "\ud83d\ude00".repeat(16),
          "\ud83d\ude00".repeat(17),
          "\u202eevil",
          "\u200b",
          "\u0085",
          "\u2028",
          "<script>alert(1)</script>",
          "' OR 1=1 --",
          "${jndi:ldap://127.0.0.1:1/x}",
          "%s%n%d",
          "../../etc",
          "\\",
          "\"",
          "\uffff",
          "\ufffe",
          "e\u0301".repeat(20),
          "\ufeff");

  private String jsonNames(Attempt attempt, Random random) throws IOException {
    boolean real = random.nextInt(3) == 0;
    String room = real ? pick(random, realRooms) : fuzzRoom(random);
    String oddRoom =
        pick(
            random,
            List.of(
                room,
                "x".repeat(41),
                "a b",
                "fz/1",
                "\u00e9t\u00e9",
                "fz-\u0000",
                "..",
                "x".repeat(5000),
                "\ud800"));
    String user = random.nextBoolean() ? pick(random, ODD) : "names";
    List<String> frames = new ArrayList<>();
    frames.add("{\"type\":\"join\",\"room\":" + json(oddRoom) + ",\"user\":" + json(user) + "}");
    frames.add("{\"type\":\"join\",\"room\":" + json(room) + ",\"user\":" + json(user) + "}");
    int posts = 1 + random.nextInt(3);
    for (int i = 0; i < posts; i++) {
      String text =
          random.nextInt(4) == 0
              ? pick(
                  random,
                  List.of(
                      "x".repeat(1000),
                      "x".repeat(1001),
                      "\ud83d\ude00".repeat(999),
                      "\ud83d\ude00".repeat(500)))
              : pick(random, ODD);
      String id =
          random.nextInt(5) == 0 ? pick(random, ODD) : "fz-" + Long.toHexString(random.nextLong());
      frames.add(
          "{\"type\":\"post\",\"room\":"
              + json(room)
              + ",\"id\":"
              + json(id)
              + ",\"text\":"
              + json(text)
              + "}");
    }
    if (random.nextBoolean()) {
      frames.add("{\"type\":\"leave\",\"room\":" + json(room) + "}");
    }
    return (real ? "real room:" : "") + commands(attempt.target(), random, frames);
  }

  private String jsonOrder(Attempt attempt, Random random) throws IOException {
    String a = fuzzRoom(random);
    String b = fuzzRoom(random);
    String join = "{\"type\":\"join\",\"room\":\"" + a + "\",\"user\":\"order\"}";
    String joinOther = "{\"type\":\"join\",\"room\":\"" + a + "\",\"user\":\"other\"}";
    String leave = "{\"type\":\"leave\",\"room\":\"" + a + "\"}";
    String post = "{\"type\":\"post\",\"room\":\"" + a + "\",\"id\":\"o1\",\"text\":\"order\"}";
    String postB = "{\"type\":\"post\",\"room\":\"" + b + "\",\"id\":\"o2\",\"text\":\"order\"}";
    List<List<String>> sequences =
        List.of(
            List.of(post),
            List.of(leave),
            List.of(join, leave, leave),
            List.of(join, joinOther),
            List.of(join, leave, post),
            List.of(join, post, leave, post),
            List.of(join, post, post),
            List.of(join, postB),
            List.of(leave, join, post, leave, join, post));
    return commands(attempt.target(), random, pick(random, sequences));
  }

  private String jsonStorm(Attempt attempt, Random random) throws IOException {
    List<String> frames = new ArrayList<>();
    int variant = random.nextInt(3);
    switch (variant) {
      case 0 -> {
        // joins and leaves over more rooms than a connection may be in
        int n = 50 + random.nextInt(350);
        for (int i = 0; i < n; i++) {
          String room = random.nextInt(8) == 0 ? pick(random, realRooms) : fuzzRoom(random);
          frames.add(
              random.nextBoolean()
                  ? "{\"type\":\"join\",\"room\":\"" + room + "\",\"user\":\"storm\"}"
                  : "{\"type\":\"leave\",\"room\":\"" + room + "\"}");
        }
      }
      case 1 -> {
        // more posts at once than the rate limit lets through
        String room = fuzzRoom(random);
        frames.add("{\"type\":\"join\",\"room\":\"" + room + "\",\"user\":\"storm\"}");
        for (int i = 0; i < 100; i++) {
          frames.add(
              "{\"type\":\"post\",\"room\":\""
                  + room
                  + "\",\"id\":\"s"
                  + i
                  + "\",\"text\":\"storm "
                  + i
                  + "\"}");
        }
      }
      default -> {
        for (int i = 0; i < 500; i++) {
          frames.add("{\"type\":\"ping\"}");
        }
      }
    }
    return "v" + variant + ":" + commands(attempt.target(), random, frames);
  }

  private String wsDashboard(Attempt attempt, Random random) throws IOException {
    try (FuzzSocket socket = open(attempt.target(), "/dashboard/ws", random)) {
      int variant = random.nextInt(6);
      switch (variant) {
        case 0 -> socket.send(FuzzSocket.text(randomUnicode(random, 200), random));
        case 1 -> {
          byte[] junk = new byte[100_000];
          random.nextBytes(junk);
          sendInParts(socket, FuzzSocket.frame(0x2, junk, random));
        }
        case 2 -> {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          for (int i = 0; i < 300; i++) {
            byte[] ping = FuzzSocket.frame(0x9, new byte[8], random);
            out.write(ping, 0, ping.length);
          }
          socket.send(out.toByteArray());
        }
        case 3 -> sendInParts(socket, FuzzSocket.text("z".repeat(1 << 20), random));
        case 4 -> socket.send(FuzzSocket.frame(0xF3, true, new byte[4], -1, random));
        default ->
            socket.send(
                FuzzSocket.text("{\"type\":\"join\",\"room\":\"fz-0\",\"user\":\"dash\"}", random));
      }
      return "v" + variant + ":" + after(socket, "/dashboard/ws", random);
    }
  }

  // ---- Pekko Management ----

  private String managementWrite(Attempt attempt, Random random) throws IOException {
    Target target = attempt.target();
    String member = pick(random, targets).address();
    String encoded = URLEncoder.encode(member, StandardCharsets.UTF_8);
    String form = "application/x-www-form-urlencoded";
    String[] variant =
        pick(
            random,
            List.of(
                new String[] {"PUT", "/cluster/members/" + member, "operation=Down"},
                new String[] {"PUT", "/cluster/members/" + encoded, "operation=Leave"},
                new String[] {"DELETE", "/cluster/members/" + member, ""},
                new String[] {"POST", "/cluster/members", "address=pekko://troupe@127.0.0.1:1"},
                new String[] {"POST", "/cluster/members/" + member, "operation=Down"},
                new String[] {"PUT", "/cluster/members/" + member, "operation=" + "x".repeat(5000)},
                new String[] {"PUT", "/cluster/shards/rooms", "operation=Down"},
                new String[] {"POST", "/bootstrap/seed-nodes", "seed=pekko://troupe@127.0.0.1:1"},
                new String[] {"DELETE", "/cluster/members", ""}));
    Endpoint endpoint = new Endpoint(target, true, variant[1]);
    String request =
        request(
                variant[0],
                variant[1],
                target.managementPort(),
                "Content-Type: " + form,
                "Content-Length: " + variant[2].length())
            + variant[2];
    try (FuzzSocket socket =
        FuzzSocket.connect(target.managementPort(), READ_MILLIS, LIFETIME_MILLIS)) {
      byte[] bytes = bytes(request);
      socket.send(bytes);
      FuzzSocket.Response response = socket.readResponse(false);
      if (response.status() >= 200 && response.status() < 300) {
        finding(
            attempt,
            endpoint.toString(),
            variant[0]
                + " "
                + variant[1]
                + " ["
                + variant[2]
                + "] accepted with "
                + response.status()
                + ": "
                + FuzzSocket.abbreviate(printable(response.text())));
      }
      return variant[0] + ":" + status(attempt, endpoint, bytes, response);
    }
  }

  private String managementJunk(Attempt attempt, Random random) throws IOException {
    Target target = attempt.target();
    int port = target.managementPort();
    String[] variant =
        pick(
            random,
            List.of(
                new String[] {"GET", "/ready?" + "x".repeat(100)},
                new String[] {"GET", "/alive?%zz"},
                new String[] {"GET", "/cluster/members/garbage"},
                new String[] {"GET", "/cluster/members/%ff"},
                new String[] {"GET", "/cluster/members/pekko%3A%2F%2F"},
                new String[] {"GET", "/cluster/members/pekko://troupe@127.0.0.1:99999"},
                new String[] {"GET", "/cluster/members/" + "a".repeat(1500)},
                new String[] {"GET", "/cluster/shards/" + "s".repeat(1500)},
                new String[] {"GET", "/cluster/shards/rooms"},
                new String[] {"GET", "/cluster/shards/%00"},
                new String[] {"GET", "/bootstrap/seed-nodes"},
                new String[] {"GET", "/health"},
                new String[] {"HEAD", "/ready"},
                new String[] {"OPTIONS", "/alive"},
                new String[] {"GET", "/ready/"},
                new String[] {"GET", "//ready"},
                new String[] {"GET", "/cluster/domain-events"}));
    Endpoint endpoint = new Endpoint(target, true, variant[1]);
    byte[] bytes =
        bytes(
            request(
                variant[0],
                variant[1],
                port,
                "Accept: "
                    + pick(
                        random,
                        List.of("*/*", "junk/junk", "text/event-stream", "application/json;q=x"))));
    try (FuzzSocket socket = FuzzSocket.connect(port, READ_MILLIS, LIFETIME_MILLIS)) {
      socket.send(bytes);
      // the event stream never ends: its status line and headers say enough
      boolean headOnly = variant[0].equals("HEAD") || variant[1].contains("domain-events");
      return status(attempt, endpoint, bytes, socket.readResponse(headOnly));
    }
  }
}
