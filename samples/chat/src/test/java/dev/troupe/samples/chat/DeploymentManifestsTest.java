package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.troupe.core.NodeOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code deploy/kubernetes/*.yaml} and {@code deploy/docker/Dockerfile} in step with the
 * sample's configuration: ports, probe paths, labels and selectors, environment variables, Secrets
 * and RBAC. It reads files and builds the configuration a pod would run with; it starts nothing.
 *
 * <p>The pod's configuration is {@link NodeOptions#toConfig()} with the Deployment's environment
 * laid over it: each variable becomes a top-level key, which is where HOCON looks a {@code
 * ${?NAME}} up before the process environment. Values from the Downward API get stand-ins (a pod
 * IP, a pod name, the template's labels), values from Secrets the placeholders of {@code
 * secret-example.yaml}.
 */
final class DeploymentManifestsTest {
  private static final Path ROOT = repositoryRoot();
  private static final Path KUBERNETES = ROOT.resolve("deploy/kubernetes");
  private static final Path DOCKERFILE = ROOT.resolve("deploy/docker/Dockerfile");
  private static final Path APPLICATION_CONF =
      ROOT.resolve("samples/chat/src/main/resources/application.conf");

  /** The files the deployment consists of; each is read by at least one check. */
  private static final List<String> FILES =
      List.of(
          "rbac.yaml",
          "deployment.yaml",
          "service-bootstrap.yaml",
          "service-web.yaml",
          "pdb.yaml",
          "secret-example.yaml");

  /** Container port name: the configuration key of the port with that role. */
  private static final Map<String, String> PORTS = new LinkedHashMap<>();

  static {
    PORTS.put("remoting", "pekko.remote.artery.canonical.port");
    PORTS.put("management", "pekko.management.http.port");
    PORTS.put("http", "chat.http.port");
  }

  /** The label secret-example.yaml's Secrets carry, which the documented apply command skips. */
  private static final String EXAMPLE_LABEL = "troupe.dev/example";

  private static final String POD_IP = "10.1.2.3";
  private static final String POD_NAME = "troupe-chat-5d8f7c9b4-x7k2p";
  private static final Pattern LABEL_FIELD = Pattern.compile("metadata\\.labels\\['([^']+)'\\]");

  private static final YAMLFactory YAML_FACTORY = new YAMLFactory();
  private static final ObjectMapper YAML = new ObjectMapper(YAML_FACTORY);

  @Test
  void everyFileParsesAndEachResourceHasApiVersionKindAndName() throws IOException {
    Set<String> present = new TreeSet<>();
    try (Stream<Path> files = Files.list(KUBERNETES)) {
      files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
          .forEach(present::add);
    }
    for (String file : FILES) {
      assertTrue(present.contains(file), "deploy/kubernetes/" + file + " is missing");
    }
    for (String file : present) {
      List<JsonNode> documents = documents(file);
      assertFalse(documents.isEmpty(), file + " holds no resource");
      for (int i = 0; i < documents.size(); i++) {
        JsonNode document = documents.get(i);
        String where = file + ", document " + (i + 1);
        assertTrue(document.isObject(), where + " is not a mapping");
        assertFalse(document.path("apiVersion").asText().isBlank(), where + " has no apiVersion");
        assertFalse(document.path("kind").asText().isBlank(), where + " has no kind");
        assertFalse(
            document.path("metadata").path("name").asText().isBlank(),
            where + " has no metadata.name");
        assertTrue(
            document.path("metadata").path("namespace").isMissingNode(),
            where
                + " sets metadata.namespace: the manifests are namespace-less (kubectl apply -n)");
      }
    }
  }

  @Test
  void containerPortsAreTheConfiguredPortsAndTheImageExposesThem() {
    Config pod = podConfig();
    Map<String, Integer> declared = containerPorts(container());
    assertEquals(
        PORTS.keySet(),
        declared.keySet(),
        "deployment.yaml: the container's named ports must be exactly " + PORTS.keySet());
    Set<Integer> configured = new TreeSet<>();
    for (Map.Entry<String, String> role : PORTS.entrySet()) {
      int port = pod.getInt(role.getValue());
      configured.add(port);
      assertEquals(
          port,
          declared.get(role.getKey()),
          "deployment.yaml: container port ["
              + role.getKey()
              + "] is "
              + declared.get(role.getKey())
              + ", but the node listens on "
              + role.getValue()
              + " = "
              + port);
    }
    Set<Integer> exposed = new TreeSet<>();
    for (String instruction : dockerInstructions("EXPOSE")) {
      for (String token : instruction.trim().split("\\s+")) {
        exposed.add(Integer.parseInt(token.replaceFirst("/(tcp|TCP)$", "")));
      }
    }
    assertEquals(
        configured,
        exposed,
        "deploy/docker/Dockerfile: EXPOSE lists "
            + exposed
            + ", but the node listens on "
            + configured
            + " ("
            + String.join(", ", PORTS.values())
            + ")");
  }

  @Test
  void probesAskManagementForTheConfiguredReadinessAndLivenessPaths() {
    Config pod = podConfig();
    JsonNode container = container();
    String ready = "/" + pod.getString("pekko.management.health-checks.readiness-path");
    String alive = "/" + pod.getString("pekko.management.health-checks.liveness-path");
    String startup = "/" + pod.getString("pekko.management.health-checks.startup-path");
    assertProbe(container, "readinessProbe", Set.of(ready), pod);
    assertProbe(container, "livenessProbe", Set.of(alive), pod);
    if (container.has("startupProbe")) {
      assertProbe(container, "startupProbe", new TreeSet<>(List.of(alive, startup)), pod);
    }
  }

  @Test
  void selectorsMatchThePodLabelsAndTheServicesTargetTheRightPorts() {
    Config pod = podConfig();
    JsonNode deployment = deployment();
    Map<String, String> labels = templateLabels();
    Map<String, String> selector = strings(deployment.path("spec").path("selector"), "matchLabels");
    assertFalse(selector.isEmpty(), "deployment.yaml: spec.selector.matchLabels is empty");
    assertEquals(
        selector,
        labels,
        "deployment.yaml: spec.selector.matchLabels must equal the template's labels");
    assertSubset(
        strings(
            only("pdb.yaml", "PodDisruptionBudget").path("spec").path("selector"), "matchLabels"),
        labels,
        "pdb.yaml: spec.selector.matchLabels");

    JsonNode bootstrap = only("service-bootstrap.yaml", "Service").path("spec");
    assertSubset(strings(bootstrap, "selector"), labels, "service-bootstrap.yaml: spec.selector");
    assertEquals(
        "None",
        bootstrap.path("clusterIP").asText(),
        "service-bootstrap.yaml: must be headless (clusterIP: None)");
    assertTrue(
        bootstrap.path("publishNotReadyAddresses").asBoolean(false),
        "service-bootstrap.yaml: publishNotReadyAddresses must be true (pods are not ready until"
            + " they have bootstrapped)");
    int management = pod.getInt(PORTS.get("management"));
    assertTrue(
        targetPorts("service-bootstrap.yaml", bootstrap).contains(management),
        "service-bootstrap.yaml: no port targets the management port "
            + management
            + " (pekko.management.http.port)");

    JsonNode web = only("service-web.yaml", "Service").path("spec");
    assertSubset(strings(web, "selector"), labels, "service-web.yaml: spec.selector");
    int http = pod.getInt(PORTS.get("http"));
    assertTrue(
        targetPorts("service-web.yaml", web).contains(http),
        "service-web.yaml: no port targets the chat's port " + http + " (chat.http.port)");

    // Cluster Bootstrap's Kubernetes API discovery lists the pods that match this selector.
    String service = podValue(env(container()), "PEKKO_CLUSTER_BOOTSTRAP_SERVICE_NAME");
    String podSelector =
        String.format(pod.getString("pekko.discovery.kubernetes-api.pod-label-selector"), service);
    Map<String, String> wanted = new LinkedHashMap<>();
    for (String term : podSelector.split(",")) {
      String[] pair = term.split("=", 2);
      assertEquals(2, pair.length, "pod-label-selector term [" + term + "] is not key=value");
      wanted.put(pair[0].trim(), pair[1].trim());
    }
    assertSubset(
        wanted,
        labels,
        "the Kubernetes API discovery's pod selector ["
            + podSelector
            + "] (pekko.discovery.kubernetes-api.pod-label-selector with the service name from"
            + " PEKKO_CLUSTER_BOOTSTRAP_SERVICE_NAME)");
  }

  @Test
  void everyEnvironmentVariableIsReadAndTheNeededOnesAreSet() {
    Map<String, JsonNode> env = env(container());
    String application = read(APPLICATION_CONF);
    List<String> references = referenceConfs();
    String entrypoint = String.join("\n", dockerInstructions("ENTRYPOINT", "CMD"));
    for (String name : env.keySet()) {
      String substitution = "${?" + name + "}";
      boolean read =
          application.contains(substitution)
              || references.stream().anyMatch(text -> text.contains(substitution))
              || Pattern.compile("\\$\\{?" + Pattern.quote(name) + "\\b")
                  .matcher(entrypoint)
                  .find();
      assertTrue(
          read,
          "deployment.yaml sets "
              + name
              + ", but nothing reads it: no "
              + substitution
              + " in samples/chat/src/main/resources/application.conf or in a reference.conf on"
              + " the class path, and deploy/docker/Dockerfile's ENTRYPOINT does not use $"
              + name);
    }

    assertEquals("production", literal(env, "TROUPE_PROFILE"), "deployment.yaml: TROUPE_PROFILE");
    assertEquals("on", literal(env, "TROUPE_BOOTSTRAP"), "deployment.yaml: TROUPE_BOOTSTRAP");
    assertEquals(
        "status.podIP",
        from(env, "TROUPE_HOST").path("fieldRef").path("fieldPath").asText(),
        "deployment.yaml: TROUPE_HOST must come from the Downward API's status.podIP");
    assertTrue(
        from(env, "TROUPE_STORAGE_URL").has("secretKeyRef"),
        "deployment.yaml: TROUPE_STORAGE_URL must come from a Secret (secretKeyRef)");
    assertFalse(
        podValue(env, "PEKKO_CLUSTER_BOOTSTRAP_SERVICE_NAME").isBlank(),
        "deployment.yaml: PEKKO_CLUSTER_BOOTSTRAP_SERVICE_NAME is empty");

    // What the node makes of them.
    Config pod = podConfig();
    assertEquals(
        "tls-tcp",
        pod.getString("pekko.remote.artery.transport"),
        "deployment.yaml's environment: the production profile must give Artery over TLS");
    assertTrue(
        pod.getBoolean("troupe.core.bootstrap.enabled"),
        "deployment.yaml's environment: troupe.core.bootstrap.enabled must be on");
    assertTrue(
        pod.getBoolean("troupe.core.management.enabled"),
        "deployment.yaml's environment: troupe.core.management.enabled must be on (probes)");
    assertEquals(
        "kubernetes-api",
        pod.getString(
            "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"),
        "deployment.yaml's environment: Cluster Bootstrap's discovery method");
    assertEquals(
        POD_IP,
        pod.getString("pekko.remote.artery.canonical.hostname"),
        "deployment.yaml's environment: the canonical hostname must be the pod IP");
    assertEquals(
        podValue(env, "TROUPE_STORAGE_URL"),
        pod.getString("troupe.storage.url"),
        "deployment.yaml's environment: troupe.storage.url must come from TROUPE_STORAGE_URL");
  }

  @Test
  void secretsAreDefinedAndTheKeyStoresLieInTheMountedTlsSecret() {
    Map<String, Map<String, String>> secrets = exampleSecrets();
    for (JsonNode secret : documents("secret-example.yaml")) {
      assertEquals(
          "true",
          secret.path("metadata").path("labels").path(EXAMPLE_LABEL).asText(),
          "secret-example.yaml: "
              + secret.path("metadata").path("name").asText()
              + " must carry the label "
              + EXAMPLE_LABEL
              + "=true, so that the documented apply command skips it");
    }
    for (String file : FILES) {
      if (file.equals("secret-example.yaml")) {
        continue;
      }
      for (JsonNode document : documents(file)) {
        assertTrue(
            document.path("metadata").path("labels").path(EXAMPLE_LABEL).isMissingNode(),
            file + ": only secret-example.yaml may carry the label " + EXAMPLE_LABEL);
      }
    }

    JsonNode container = container();
    for (Map.Entry<String, JsonNode> variable : env(container).entrySet()) {
      JsonNode ref = variable.getValue().path("valueFrom").path("secretKeyRef");
      if (!ref.isMissingNode()) {
        assertSecretKey(
            secrets,
            ref.path("name").asText(),
            ref.path("key").asText(),
            "deployment.yaml: env " + variable.getKey());
      }
    }
    Map<String, JsonNode> volumes = new LinkedHashMap<>();
    for (JsonNode volume :
        deployment().path("spec").path("template").path("spec").path("volumes")) {
      volumes.put(volume.path("name").asText(), volume);
      JsonNode secret = volume.path("secret");
      if (!secret.isMissingNode()) {
        String name = secret.path("secretName").asText();
        assertTrue(
            secrets.containsKey(name),
            "deployment.yaml: volume "
                + volume.path("name").asText()
                + " mounts Secret "
                + name
                + ", which secret-example.yaml does not define");
        for (JsonNode item : secret.path("items")) {
          assertSecretKey(
              secrets,
              name,
              item.path("key").asText(),
              "deployment.yaml: volume " + volume.path("name").asText());
        }
      }
    }
    for (JsonNode mount : container.path("volumeMounts")) {
      assertTrue(
          volumes.containsKey(mount.path("name").asText()),
          "deployment.yaml: volumeMount " + mount.path("name").asText() + " names no volume");
    }

    Config pod = podConfig();
    String tlsSecret = null;
    Map<String, String> stores = new LinkedHashMap<>();
    stores.put("TROUPE_KEY_STORE", "troupe.security.tls.key-store");
    stores.put("TROUPE_TRUST_STORE", "troupe.security.tls.trust-store");
    for (Map.Entry<String, String> store : stores.entrySet()) {
      String path = literal(env(container), store.getKey());
      assertEquals(
          path,
          pod.getString(store.getValue()),
          "deployment.yaml's environment: " + store.getValue() + " must be " + store.getKey());
      String where = "deployment.yaml: " + store.getKey() + " = " + path;
      JsonNode mount = mountOf(container, path);
      assertNotNull(mount, where + " lies under no volumeMount");
      JsonNode volume = volumes.get(mount.path("name").asText()).path("secret");
      assertFalse(volume.isMissingNode(), where + " lies in a volume that is not a Secret");
      String secret = volume.path("secretName").asText();
      if (tlsSecret == null) {
        tlsSecret = secret;
      }
      assertEquals(tlsSecret, secret, where + ": key store and trust store in different Secrets");
      String file = path.substring(mount.path("mountPath").asText().replaceAll("/+$", "").length());
      file = file.replaceFirst("^/+", "");
      String key = file;
      if (volume.has("items")) {
        key = null;
        for (JsonNode item : volume.path("items")) {
          if (item.path("path").asText().equals(file)) {
            key = item.path("key").asText();
          }
        }
        assertNotNull(key, where + ": the volume's items project no file " + file);
      }
      assertSecretKey(secrets, secret, key, where);
    }
    for (String password : List.of("TROUPE_KEY_STORE_PASSWORD", "TROUPE_TRUST_STORE_PASSWORD")) {
      if (env(container).containsKey(password)) {
        assertEquals(
            tlsSecret,
            from(env(container), password).path("secretKeyRef").path("name").asText(),
            "deployment.yaml: " + password + " must come from the TLS Secret " + tlsSecret);
      }
    }
  }

  @Test
  void theRoleLetsTheDeploymentsServiceAccountReadPods() {
    String account =
        deployment().path("spec").path("template").path("spec").path("serviceAccountName").asText();
    assertFalse(account.isBlank(), "deployment.yaml: no serviceAccountName");
    assertEquals(
        account,
        only("rbac.yaml", "ServiceAccount").path("metadata").path("name").asText(),
        "rbac.yaml: the ServiceAccount is not the Deployment's serviceAccountName");

    JsonNode role = only("rbac.yaml", "Role");
    boolean readsPods = false;
    for (JsonNode rule : role.path("rules")) {
      if (texts(rule.path("apiGroups")).contains("")
          && texts(rule.path("resources")).contains("pods")
          && texts(rule.path("verbs")).containsAll(Set.of("get", "watch", "list"))) {
        readsPods = true;
      }
    }
    assertTrue(
        readsPods,
        "rbac.yaml: Role "
            + role.path("metadata").path("name").asText()
            + " must grant get, watch and list on pods (core API group)");

    JsonNode binding = only("rbac.yaml", "RoleBinding");
    JsonNode roleRef = binding.path("roleRef");
    assertEquals("Role", roleRef.path("kind").asText(), "rbac.yaml: RoleBinding roleRef.kind");
    assertEquals(
        role.path("metadata").path("name").asText(),
        roleRef.path("name").asText(),
        "rbac.yaml: the RoleBinding binds another role");
    boolean bound = false;
    for (JsonNode subject : binding.path("subjects")) {
      bound |=
          "ServiceAccount".equals(subject.path("kind").asText())
              && account.equals(subject.path("name").asText());
    }
    assertTrue(bound, "rbac.yaml: the RoleBinding does not bind ServiceAccount " + account);
  }

  // ---- the pod's configuration

  /** The configuration a pod of deployment.yaml runs with. */
  private static Config podConfig() {
    Map<String, JsonNode> env = env(container());
    Map<String, Object> variables = new LinkedHashMap<>();
    for (String name : env.keySet()) {
      variables.put(name, podValue(env, name));
    }
    String hocon = ConfigFactory.parseMap(variables).root().render(ConfigRenderOptions.concise());
    return NodeOptions.builder().config(hocon).build().toConfig();
  }

  /** The value variable {@code name} has in a pod: literal, Downward API stand-in or Secret. */
  private static String podValue(Map<String, JsonNode> env, String name) {
    JsonNode variable = env.get(name);
    assertNotNull(variable, "deployment.yaml: the container sets no " + name);
    if (variable.has("value")) {
      return variable.path("value").asText();
    }
    JsonNode from = variable.path("valueFrom");
    if (from.has("fieldRef")) {
      String field = from.path("fieldRef").path("fieldPath").asText();
      Matcher label = LABEL_FIELD.matcher(field);
      if (field.equals("status.podIP")) {
        return POD_IP;
      } else if (field.equals("metadata.name")) {
        return POD_NAME;
      } else if (label.matches()) {
        String value = templateLabels().get(label.group(1));
        assertNotNull(value, "deployment.yaml: " + name + " reads a label the pods lack: " + field);
        return value;
      }
      fail("deployment.yaml: " + name + " reads a field this test does not know: " + field);
    }
    if (from.has("secretKeyRef")) {
      JsonNode ref = from.path("secretKeyRef");
      Map<String, Map<String, String>> secrets = exampleSecrets();
      assertSecretKey(
          secrets, ref.path("name").asText(), ref.path("key").asText(), "deployment.yaml: " + name);
      return secrets.get(ref.path("name").asText()).get(ref.path("key").asText());
    }
    return fail("deployment.yaml: " + name + " has neither a value nor a known valueFrom");
  }

  // ---- the manifests

  private static JsonNode deployment() {
    return only("deployment.yaml", "Deployment");
  }

  /** The chat container (the only one). */
  private static JsonNode container() {
    JsonNode containers =
        deployment().path("spec").path("template").path("spec").path("containers");
    assertEquals(1, containers.size(), "deployment.yaml: expected one container");
    return containers.get(0);
  }

  private static Map<String, String> templateLabels() {
    return strings(deployment().path("spec").path("template").path("metadata"), "labels");
  }

  private static Map<String, Integer> containerPorts(JsonNode container) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (JsonNode port : container.path("ports")) {
      ports.put(port.path("name").asText(), port.path("containerPort").asInt());
    }
    return ports;
  }

  /** The container's environment by name; a name set twice fails. */
  private static Map<String, JsonNode> env(JsonNode container) {
    Map<String, JsonNode> env = new LinkedHashMap<>();
    for (JsonNode variable : container.path("env")) {
      String name = variable.path("name").asText();
      assertTrue(env.put(name, variable) == null, "deployment.yaml: env " + name + " set twice");
    }
    return env;
  }

  private static String literal(Map<String, JsonNode> env, String name) {
    JsonNode variable = env.get(name);
    assertNotNull(variable, "deployment.yaml: the container sets no " + name);
    assertTrue(variable.has("value"), "deployment.yaml: " + name + " must be a literal value");
    return variable.path("value").asText();
  }

  private static JsonNode from(Map<String, JsonNode> env, String name) {
    JsonNode variable = env.get(name);
    assertNotNull(variable, "deployment.yaml: the container sets no " + name);
    return variable.path("valueFrom");
  }

  private static void assertProbe(JsonNode container, String probe, Set<String> paths, Config pod) {
    JsonNode get = container.path(probe).path("httpGet");
    assertFalse(get.isMissingNode(), "deployment.yaml: " + probe + " must be an httpGet probe");
    assertTrue(
        paths.contains(get.path("path").asText()),
        "deployment.yaml: "
            + probe
            + " asks for ["
            + get.path("path").asText()
            + "], but Pekko Management serves it at "
            + paths);
    JsonNode port = get.path("port");
    int management = pod.getInt(PORTS.get("management"));
    boolean onManagement =
        port.isTextual() && !port.asText().matches("\\d+")
            ? port.asText().equals("management")
            : port.asInt() == management;
    assertTrue(
        onManagement,
        "deployment.yaml: "
            + probe
            + " asks port ["
            + port.asText()
            + "], not the management port (name management or "
            + management
            + ")");
  }

  /** The container port numbers a Service's ports lead to (by name, number or their own port). */
  private static Set<Integer> targetPorts(String file, JsonNode serviceSpec) {
    Map<String, Integer> named = containerPorts(container());
    Set<Integer> targets = new TreeSet<>();
    for (JsonNode port : serviceSpec.path("ports")) {
      JsonNode target = port.has("targetPort") ? port.path("targetPort") : port.path("port");
      if (target.isTextual() && !target.asText().matches("\\d+")) {
        Integer number = named.get(target.asText());
        assertNotNull(
            number, file + ": targetPort " + target.asText() + " names no container port");
        targets.add(number);
      } else {
        targets.add(target.asInt());
      }
    }
    return targets;
  }

  private static JsonNode mountOf(JsonNode container, String path) {
    for (JsonNode mount : container.path("volumeMounts")) {
      String dir = mount.path("mountPath").asText().replaceAll("/+$", "");
      if (path.startsWith(dir + "/")) {
        return mount;
      }
    }
    return null;
  }

  /** secret-example.yaml's Secrets: name to (key to value, data decoded). */
  private static Map<String, Map<String, String>> exampleSecrets() {
    Map<String, Map<String, String>> secrets = new LinkedHashMap<>();
    for (JsonNode secret : documents("secret-example.yaml")) {
      assertEquals(
          "Secret", secret.path("kind").asText(), "secret-example.yaml holds only Secrets");
      Map<String, String> keys = new LinkedHashMap<>();
      for (Map.Entry<String, String> data : strings(secret, "data").entrySet()) {
        keys.put(
            data.getKey(),
            new String(Base64.getDecoder().decode(data.getValue()), StandardCharsets.UTF_8));
      }
      keys.putAll(strings(secret, "stringData"));
      secrets.put(secret.path("metadata").path("name").asText(), keys);
    }
    return secrets;
  }

  private static void assertSecretKey(
      Map<String, Map<String, String>> secrets, String secret, String key, String where) {
    assertTrue(
        secrets.containsKey(secret),
        where + " reads Secret " + secret + ", which secret-example.yaml does not define");
    assertTrue(
        secrets.get(secret).containsKey(key),
        where
            + " reads key "
            + key
            + " of Secret "
            + secret
            + ", which has only "
            + secrets.get(secret).keySet()
            + " in secret-example.yaml");
  }

  private static void assertSubset(
      Map<String, String> selector, Map<String, String> labels, String what) {
    assertFalse(selector.isEmpty(), what + " is empty: it would select every pod");
    for (Map.Entry<String, String> term : selector.entrySet()) {
      assertEquals(
          term.getValue(),
          labels.get(term.getKey()),
          what + " asks " + term + ", but the Deployment's pods are labelled " + labels);
    }
  }

  private static JsonNode only(String file, String kind) {
    List<JsonNode> found = new ArrayList<>();
    for (JsonNode document : documents(file)) {
      if (kind.equals(document.path("kind").asText())) {
        found.add(document);
      }
    }
    assertEquals(1, found.size(), file + " must hold exactly one " + kind);
    return found.get(0);
  }

  /** The YAML documents of {@code deploy/kubernetes/<file>}, empty ones left out. */
  private static List<JsonNode> documents(String file) {
    Path path = KUBERNETES.resolve(file);
    assertTrue(Files.isRegularFile(path), "deploy/kubernetes/" + file + " is missing");
    List<JsonNode> documents = new ArrayList<>();
    try (YAMLParser parser = YAML_FACTORY.createParser(path.toFile());
        MappingIterator<JsonNode> values = YAML.readValues(parser, JsonNode.class)) {
      while (values.hasNext()) {
        JsonNode document = values.next();
        if (document != null && !document.isNull() && !document.isMissingNode()) {
          documents.add(document);
        }
      }
    } catch (IOException | RuntimeException e) {
      fail("deploy/kubernetes/" + file + " does not parse: " + e.getMessage(), e);
    }
    return documents;
  }

  /** The string fields of {@code node.<field>}; empty if absent. */
  private static Map<String, String> strings(JsonNode node, String field) {
    Map<String, String> values = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = node.path(field).fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> entry = fields.next();
      values.put(entry.getKey(), entry.getValue().asText());
    }
    return values;
  }

  private static Set<String> texts(JsonNode array) {
    Set<String> values = new TreeSet<>();
    array.forEach(value -> values.add(value.asText()));
    return values;
  }

  // ---- the Dockerfile and the configuration sources

  /** The arguments of the Dockerfile's instructions named {@code names}, continuations joined. */
  private static List<String> dockerInstructions(String... names) {
    String text = read(DOCKERFILE).replaceAll("\\\\\r?\n", " ");
    List<String> found = new ArrayList<>();
    for (String line : text.split("\r?\n")) {
      String trimmed = line.trim();
      for (String name : names) {
        if (trimmed.regionMatches(true, 0, name + " ", 0, name.length() + 1)) {
          found.add(trimmed.substring(name.length() + 1));
        }
      }
    }
    assertFalse(found.isEmpty(), "deploy/docker/Dockerfile has no " + List.of(names));
    return found;
  }

  /** The text of every reference.conf on the test class path. */
  private static List<String> referenceConfs() {
    List<String> texts = new ArrayList<>();
    try {
      for (URL url :
          Collections.list(
              DeploymentManifestsTest.class.getClassLoader().getResources("reference.conf"))) {
        try (InputStream in = url.openStream()) {
          texts.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertFalse(texts.isEmpty(), "no reference.conf on the class path");
    return texts;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** The directory above the working directory that holds deploy/kubernetes. */
  private static Path repositoryRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("deploy/kubernetes"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "no deploy/kubernetes above " + Path.of("").toAbsolutePath() + ": run from the repository");
  }
}
