package dev.troupe.samples.chat;

import dev.troupe.core.AccessToken;
import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.WorkerFleet;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.IncomingConnection;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.model.headers.HttpCookie;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.SameSite;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The node's HTTP server (Pekko HTTP): the chat page and its WebSocket ({@code /ws}), the live
 * dashboard ({@code /dashboard}, pushed over {@code /dashboard/ws}, also {@code /api/dashboard}),
 * {@code /metrics} (Prometheus text). Health checks are Pekko Management's ({@code /ready}, {@code
 * /alive} on the management port), with Troupe's checks and {@link ChatReadinessCheck}.
 */
final class ChatServer extends AllDirectives {
  /** The cookie that carries the operator token in a browser. */
  static final String OPERATOR_COOKIE = "troupe-operator";

  private final TroupeNode node;
  private final ChatSettings settings;
  private final WorkerFleet<Room.Command> rooms;
  private final ChatMetrics metrics;
  private final Dashboard dashboard;
  private final Materializer materializer;
  private final AtomicLong connections = new AtomicLong();
  private final ConnectionLimits limits;
  private final AccessToken token;

  private ChatServer(
      TroupeNode node,
      ChatSettings settings,
      WorkerFleet<Room.Command> rooms,
      ChatMetrics metrics,
      Dashboard dashboard) {
    this.node = node;
    this.settings = settings;
    this.rooms = rooms;
    this.metrics = metrics;
    this.dashboard = dashboard;
    this.materializer = Materializer.matFromSystem(node.system());
    this.token = AccessToken.fromConfig(node.system().settings().config());
    this.limits =
        new ConnectionLimits(
            settings.limits().connectionsPerAddress(), settings.limits().connectionsPerNode());
  }

  static ChatServer create(
      TroupeNode node,
      ChatSettings settings,
      WorkerFleet<Room.Command> rooms,
      ChatMetrics metrics,
      Dashboard dashboard) {
    return new ChatServer(node, settings, rooms, metrics, dashboard);
  }

  /** Starts serving on {@code chat.http.host} and {@code .port}. */
  CompletionStage<ServerBinding> bind() {
    ChatServer server = this;
    Flow<HttpRequest, HttpResponse, NotUsed> handler = server.routes().flow(node.system());
    ServerSettings serverSettings =
        ServerSettings.create(node.system().classicSystem()).withRemoteAddressAttribute(true);
    return Http.get(node.system())
        .newServerAt(settings.host(), settings.port())
        .withSettings(serverSettings)
        .connectionSource()
        .to(Sink.foreach(connection -> server.acceptSafely(connection, handler)))
        .run(server.materializer);
  }

  /**
   * A new TCP connection: served if its address holds fewer than {@code
   * chat.limits.connections-per-address}, and closed unless its first request head arrives within
   * {@code chat.limits.first-request-timeout}; otherwise its first request gets 503 and it is
   * closed.
   */
  /** {@link #accept}, whose failure costs one connection, never the accept loop itself. */
  private void acceptSafely(
      IncomingConnection connection, Flow<HttpRequest, HttpResponse, NotUsed> handler) {
    try {
      accept(connection, handler);
    } catch (RuntimeException e) {
      node.system()
          .log()
          .warn(
              "Chat: cannot serve a connection from {}: {}",
              connection.remoteAddress(),
              e.toString());
    }
  }

  private void accept(
      IncomingConnection connection, Flow<HttpRequest, HttpResponse, NotUsed> handler) {
    InetAddress address = connection.remoteAddress().getAddress();
    Duration firstRequest = settings.limits().firstRequestTimeout();
    Optional<ConnectionLimits.Lease> lease = limits.openConnection(address);
    if (lease.isEmpty()) {
      metrics.rejected();
      connection.handleWith(
          Flow.<HttpRequest>create()
              .initialTimeout(firstRequest)
              .take(1)
              .map(
                  request -> {
                    request.discardEntityBytes(materializer);
                    return HttpResponse.create()
                        .withStatus(StatusCodes.SERVICE_UNAVAILABLE)
                        .addHeader(Connection.create("close"))
                        .withEntity(
                            "too many connections from "
                                + address.getHostAddress()
                                + ": at most "
                                + limits.perAddress()
                                + " (chat.limits.connections-per-address)");
                  }),
          materializer);
      return;
    }
    connection.handleWith(
        Flow.<HttpRequest>create()
            .initialTimeout(firstRequest)
            .via(handler)
            .watchTermination(
                (notUsed, done) -> {
                  done.whenComplete((d, failure) -> lease.get().release());
                  return notUsed;
                }),
        materializer);
  }

  /** What this node's clients hold open (for tests and the dashboard). */
  ConnectionLimits limits() {
    return limits;
  }

  Route routes() {
    return concat(
        pathSingleSlash(() -> get(() -> resource("web/index.html"))),
        path("chat.js", () -> get(() -> resource("web/chat.js"))),
        path("dashboard.js", () -> get(() -> resource("web/dashboard.js"))),
        path(
            PathMatchers.segment("vendor").slash("uPlot.iife.min.js"),
            () -> get(() -> resource("web/vendor/uPlot.iife.min.js"))),
        path(
            PathMatchers.segment("vendor").slash("uPlot.min.css"),
            () -> get(() -> resource("web/vendor/uPlot.min.css"))),
        path("style.css", () -> get(() -> resource("web/style.css"))),
        path("ws", () -> webSocket(address -> handleWebSocketMessages(chatFlow(address)))),
        path("dashboard", () -> operator(() -> get(() -> resource("web/dashboard.html")))),
        path(
            PathMatchers.segment("dashboard").slash("ws"),
            () ->
                operator(
                    () -> webSocket(address -> handleWebSocketMessages(dashboardFlow(address))))),
        path(
            PathMatchers.segment("api").slash("dashboard"),
            () ->
                operator(
                    () ->
                        get(
                            () ->
                                completeWithFuture(
                                    dashboard
                                        .current()
                                        .thenApply(
                                            json ->
                                                HttpResponse.create()
                                                    .withEntity(
                                                        ContentTypes.APPLICATION_JSON, json)))))),
        path(
            "metrics",
            () ->
                operator(
                    () ->
                        get(
                            () ->
                                complete(
                                    HttpResponse.create()
                                        .withEntity(
                                            ContentTypes.create(
                                                MediaTypes.TEXT_PLAIN, HttpCharsets.UTF_8),
                                            metrics.registry().scrape()))))));
  }

  /**
   * The dashboard, its JSON, its feed and the metrics: once {@code troupe.security.access-token} is
   * set, only with the token — {@code Authorization: Bearer <token>} (scrapers, curl) or the cookie
   * a browser gets by opening {@code /dashboard?token=<token>} once (HttpOnly, SameSite=Strict; the
   * redirect drops the token from the address bar). Compared in constant time.
   */
  private Route operator(Supplier<Route> inner) {
    if (!token.isSet()) {
      return inner.get();
    }
    return optionalHeaderValueByName(
        "Authorization",
        authorization ->
            optionalCookie(
                OPERATOR_COOKIE,
                cookie -> {
                  if (token.acceptsAuthorization(authorization)
                      || cookie.map(c -> token.accepts(c.value())).orElse(false)) {
                    return inner.get();
                  }
                  return parameterOptional(
                      "token",
                      presented -> {
                        if (presented.isPresent() && token.accepts(presented.get())) {
                          return extractUri(
                              uri ->
                                  setCookie(
                                      HttpCookie.create(OPERATOR_COOKIE, presented.get())
                                          .withPath("/")
                                          .withHttpOnly(true)
                                          .withSameSite(SameSite.Strict),
                                      () ->
                                          redirect(Uri.create(uri.path()), StatusCodes.SEE_OTHER)));
                        }
                        metrics.rejected();
                        return complete(
                            HttpResponse.create()
                                .withStatus(StatusCodes.UNAUTHORIZED)
                                .addHeader(
                                    RawHeader.create("WWW-Authenticate", "Bearer realm=\"troupe\""))
                                .withEntity(
                                    "this page needs the operator token ("
                                        + AccessToken.SETTING
                                        + "): open it once with ?token=<token>, or send"
                                        + " Authorization: Bearer <token>"));
                      });
                }));
  }

  private Route resource(String path) {
    return getFromResource(path);
  }

  /**
   * A WebSocket endpoint: from an allowed origin, while the node holds fewer than {@code
   * chat.limits.connections-per-node} WebSockets (else 503 before the upgrade); {@code inner} gets
   * the client's address.
   */
  private Route webSocket(Function<InetAddress, Route> inner) {
    return sameOrigin(
        () ->
            extractRequest(
                request -> {
                  if (limits.webSocketsFull()) {
                    metrics.rejected();
                    return complete(StatusCodes.SERVICE_UNAVAILABLE, nodeFull());
                  }
                  InetAddress address =
                      request
                          .getAttribute(AttributeKeys.remoteAddress)
                          .flatMap(RemoteAddress::getAddress)
                          .orElse(InetAddress.getLoopbackAddress());
                  return inner.apply(address);
                }));
  }

  private String nodeFull() {
    return "this node serves its maximum of "
        + limits.perNode()
        + " WebSocket connections (chat.limits.connections-per-node): try another node";
  }

  /**
   * A WebSocket flow that holds a lease of {@code address} while it runs; should the node have
   * filled up since the upgrade was answered, one error frame and the connection is closed.
   */
  private Flow<Message, Message, NotUsed> leased(
      InetAddress address, Supplier<Flow<Message, Message, NotUsed>> flow) {
    Optional<ConnectionLimits.Lease> lease = limits.openWebSocket(address);
    if (lease.isEmpty()) {
      metrics.rejected();
      return Flow.fromSinkAndSourceCoupled(
          Sink.<Message>ignore(),
          Source.single((Message) TextMessage.create(ClientProtocol.error(nodeFull(), null))));
    }
    return flow.get()
        .watchTermination(
            (notUsed, done) -> {
              done.whenComplete((d, failure) -> lease.get().release());
              return notUsed;
            });
  }

  /**
   * WebSockets only from the page's own origin (or one listed in {@code chat.allowed-origins});
   * clients that send no Origin (not browsers) are let in.
   */
  private Route sameOrigin(Supplier<Route> inner) {
    return optionalHeaderValueByName(
        "Origin",
        origin ->
            optionalHeaderValueByName(
                "Host",
                host -> {
                  if (origin.isEmpty() || allowed(origin.get(), host)) {
                    return inner.get();
                  }
                  metrics.rejected();
                  return complete(
                      StatusCodes.FORBIDDEN, "origin [" + origin.get() + "] is not allowed");
                }));
  }

  private boolean allowed(String origin, Optional<String> host) {
    if (settings.allowedOrigins().contains(origin)) {
      return true;
    }
    return host.isPresent()
        && (origin.equals("http://" + host.get()) || origin.equals("https://" + host.get()));
  }

  /**
   * One connection: a gateway actor between the frames and the rooms, made when Pekko HTTP
   * materializes the flow — that is, only for a request that is a WebSocket upgrade and once the
   * handshake is answered. A plain {@code GET /ws} is rejected with 400 and creates nothing (it
   * used to create a gateway and a registration per request: the route built the flow first).
   */
  private Flow<Message, Message, NotUsed> chatFlow(InetAddress address) {
    return Flow.<Message, Message, NotUsed>fromMaterializer(
            (mat, attributes) -> leased(address, () -> connection(mat)))
        .mapMaterializedValue(ignored -> NotUsed.getInstance());
  }

  private Flow<Message, Message, NotUsed> connection(Materializer mat) {
    Pair<ActorRef<Gateway.Out>, Source<Gateway.Out, NotUsed>> out =
        ActorSource.<Gateway.Out>actorRef(
                m -> m instanceof Gateway.Close,
                m -> Optional.empty(),
                1024,
                OverflowStrategy.fail())
            .preMaterialize(mat);
    ActorRef<Gateway.Command> gateway =
        node.system()
            .systemActorOf(
                Gateway.create(rooms, settings, metrics, out.first()),
                "chat-gateway-" + connections.incrementAndGet(),
                Props.empty());
    node.registry().register(Gateway.GROUP, gateway.narrow());
    Sink<Message, NotUsed> in =
        Flow.<Message>create()
            .mapAsync(1, this::toCommand)
            .to(
                ActorSink.actorRef(
                    gateway, new Gateway.ClientGone(), failure -> new Gateway.ClientGone()));
    Source<Message, NotUsed> frames =
        out.second().map(o -> (Message) TextMessage.create(((Gateway.Frame) o).json()));
    return Flow.fromSinkAndSourceCoupled(in, frames);
  }

  private CompletionStage<Gateway.Command> toCommand(Message message) {
    int max = settings.maxFrameBytes();
    if (!message.isText()) {
      return message
          .asBinaryMessage()
          .getStreamedData()
          .runWith(Sink.ignore(), materializer)
          .thenApply(done -> (Gateway.Command) new Gateway.Binary());
    }
    TextMessage text = message.asTextMessage();
    if (text.isStrict()) {
      String s = text.getStrictText();
      int bytes = s.getBytes(StandardCharsets.UTF_8).length;
      return CompletableFuture.completedFuture(
          bytes > max ? new Gateway.TooBig(bytes) : new Gateway.FromClient(s));
    }
    // A streamed message is read to its end, keeping at most max bytes: cancelling its stream
    // early (limitWeighted) tore the whole connection down before the error frame could go out,
    // depending on how the message happened to arrive in TCP segments.
    return text.getStreamedText()
        .runFold(
            new Capped(new StringBuilder(), new long[1]),
            (capped, part) -> capped.add(part, max),
            materializer)
        .<Gateway.Command>thenApply(
            capped ->
                capped.bytes()[0] > max
                    ? new Gateway.TooBig(capped.bytes()[0])
                    : new Gateway.FromClient(capped.text().toString()))
        .exceptionally(e -> new Gateway.TooBig(max + 1L));
  }

  /** The first {@code max} bytes of a streamed message, and how many bytes it had in all. */
  private record Capped(StringBuilder text, long[] bytes) {
    Capped add(String part, int max) {
      bytes[0] += part.getBytes(StandardCharsets.UTF_8).length;
      if (bytes[0] <= max) {
        text.append(part);
      }
      return this;
    }
  }

  /**
   * The dashboard's feed: the current snapshot at once and then every interval (one built an
   * interval however many watch); what the page sends is ignored.
   */
  private Flow<Message, Message, NotUsed> dashboardFlow(InetAddress address) {
    return Flow.<Message, Message, NotUsed>fromMaterializer(
            (mat, attributes) ->
                leased(
                    address,
                    () -> {
                      Source<Message, NotUsed> snapshots =
                          Source.tick(Duration.ZERO, settings.dashboardInterval(), "tick")
                              .mapAsync(1, t -> dashboard.current())
                              .map(json -> (Message) TextMessage.create(json))
                              .mapMaterializedValue(c -> NotUsed.getInstance());
                      return Flow.fromSinkAndSourceCoupled(Sink.<Message>ignore(), snapshots);
                    }))
        .mapMaterializedValue(ignored -> NotUsed.getInstance());
  }
}
