import Testing
import XCShell

@testable import XCObjects

/// The Compose subset of `stack up` (docs/stacks.md): what a good file becomes, where each
/// refused key is reported, interpolation, and the plan's names and order.
struct ComposeParserTests {
  func parse(_ text: String, _ variables: [String: String] = [:], files: [String: String] = [:]) throws(ComposeError) -> ComposeFile {
    try ComposeParser(file: "compose.yaml", variables: variables, readFile: { files[$0] }).parse(text)
  }

  /// The error `text` gives, or a recorded failure.
  func failure(_ text: String, _ variables: [String: String] = [:]) -> ComposeError? {
    do {
      _ = try parse(text, variables)
      Issue.record("no error for:\n\(text)")
      return nil
    } catch {
      return error
    }
  }

  let good = """
    name: shop
    x-common: &img busybox:latest
    services:
      web:
        image: *img
        command: ["httpd", "-f", "-p", "80"]
        environment:
          MODE: production
          EMPTY: ""
        env_file: web.env
        ports: ["8080:80", "127.0.0.1:8443:443/tcp"]
        volumes: [data:/var/data, ./site:/www:ro]
        networks: [front, back]
        depends_on:
          db: {condition: service_started}
        hostname: www
        user: nobody
        dns: 10.0.0.53
      db:
        image: busybox:latest
        entrypoint: sh -c
        command: "'echo \\"db up\\" && sleep 1000'"
        environment: [ROLE=db, TOKEN]
        networks:
          back:
    networks:
      front:
      back:
        driver: bridge
        ipam:
          config:
            - subnet: 10.5.0.0/24
      shared:
        external: true
        name: lan0
    volumes:
      data:
      logs:
        external: true
    """

  @Test func aGoodFile() throws {
    let f = try parse(good, ["TOKEN": "t0k"], files: ["web.env": "MODE=dev\nFROM_FILE=1\n"])
    #expect(f.name == "shop")
    #expect(f.services.map(\.name) == ["web", "db"])
    let web = f.services[0]
    #expect(web.image == "busybox:latest")
    #expect(web.command == ["httpd", "-f", "-p", "80"])
    // `environment` wins over `env_file`.
    #expect(web.environment == ["MODE": "production", "EMPTY": "", "FROM_FILE": "1"])
    #expect(web.ports.map(\.value) == ["8080:80", "127.0.0.1:8443:443/tcp"])
    #expect(web.ports[0].at == ComposePosition(file: "compose.yaml", line: 11, column: 13))
    #expect(web.volumes.map(\.value) == ["data:/var/data", "./site:/www:ro"])
    #expect(web.networks?.map(\.value) == ["front", "back"])
    #expect(web.dependsOn.map(\.value) == ["db"])
    #expect(web.hostname == "www" && web.user == "nobody" && web.dns == ["10.0.0.53"])
    let db = f.services[1]
    #expect(db.entrypoint == ["sh", "-c"])
    #expect(db.command == ["echo \"db up\" && sleep 1000"])
    #expect(db.environment == ["ROLE": "db", "TOKEN": "t0k"])
    #expect(f.networks.map(\.key) == ["front", "back", "shared"])
    #expect(f.networks[1].subnet == "10.5.0.0/24")
    #expect(f.networks[2].externalName == "lan0")
    #expect(f.volumes.map(\.key) == ["data", "logs"] && f.volumes[1].externalName == "logs")
  }

  @Test func thePlanNamesOrdersAndLabels() throws {
    let f = try parse(good, ["TOKEN": "t"], files: ["web.env": ""])
    let plan = try StackPlan.make(f, project: "shop", projectDir: "/srv/shop", existingSubnets: ["other": "10.5.1.0/24"])
    // `db` first: `web` depends on it.
    #expect(plan.services.map(\.container) == ["shop-db-1", "shop-web-1"])
    #expect(plan.networks.map(\.name) == ["shop-front", "shop-back", "lan0"])
    #expect(plan.networks[1].subnet == "10.5.0.0/24")
    #expect(plan.networks[2].external && plan.networks[2].subnet == nil)
    // A subnet of its own, overlapping no listed network.
    let front = try #require(plan.networks[0].subnet)
    #expect(front.hasPrefix("10.2") && front.hasSuffix(".0/24") && front != "10.219.0.0/24")
    #expect(plan.volumes.map(\.name) == ["shop-data", "logs"])
    let web = plan.services[1]
    #expect(web.binds.map(\.value) == ["shop-data:/var/data", "/srv/shop/./site:/www:ro"])
    #expect(web.networks == ["shop-front", "shop-back"])
    #expect(web.hostname == "www")
    #expect(web.environment["XCSH_STACK"] == "shop" && web.environment["XCSH_STACK_SERVICE"] == "web")
    #expect(web.environment["XCSH_STACK_HASH"]?.count == 16)
    // db joins `back` only; with no `networks:` a service joins the project's network.
    #expect(plan.services[0].networks == ["shop-back"])
    #expect(plan.services[0].argv == ["sh", "-c", "echo \"db up\" && sleep 1000"])
  }

  @Test func theDefaultNetworkAndTheSettingsHash() throws {
    let a = try StackPlan.make(try parse("services:\n  app:\n    image: busybox:latest\n"), project: "p1", projectDir: "/", existingSubnets: [:])
    #expect(a.networks.map(\.name) == ["p1"])
    #expect(a.services[0].networks == ["p1"] && a.services[0].hostname == "app")
    // An existing network keeps its subnet.
    let b = try StackPlan.make(try parse("services:\n  app:\n    image: busybox:latest\n"), project: "p1", projectDir: "/", existingSubnets: ["p1": "10.9.9.0/24"])
    #expect(b.networks[0].subnet == "10.9.9.0/24")
    #expect(a.services[0].environment["XCSH_STACK_HASH"] == b.services[0].environment["XCSH_STACK_HASH"])
    let c = try StackPlan.make(try parse("services:\n  app:\n    image: busybox:1\n"), project: "p1", projectDir: "/", existingSubnets: [:])
    #expect(a.services[0].environment["XCSH_STACK_HASH"] != c.services[0].environment["XCSH_STACK_HASH"])
  }

  @Test(arguments: [
    // (file, line, column, words the message has)
    ("services:\n  web:\n    image: busybox:latest\n    healthcheck:\n      test: [CMD, true]\n      start_interval: 5s\n", 6, 7, "`healthcheck.start_interval` is not supported"),
    ("services:\n  web:\n    image: busybox:latest\n    build:\n      target: prod\n", 5, 7, "`build.target` is not supported"),
    ("services:\n  web:\n    image: busybox:latest\n    working_dir: /srv\n", 4, 5, "`working_dir:` is not supported"),
    ("services:\n  web:\n    image: busybox:latest\n    cap_add: [NET_ADMIN]\n", 4, 5, "`cap_add` is not supported in a service"),
    ("services:\n  web:\n    image: busybox:latest\n    container_name: w\n", 4, 5, "`container_name:` is not supported"),
    ("services:\n  web:\n    image: busybox:latest\nsecrets: {}\n", 4, 1, "`secrets:` is not supported"),
    ("services:\n  web:\n    image: busybox:latest\n    ports:\n      - target: 80\n", 5, 9, "long form of `ports`"),
    ("services:\n  web:\n    image: busybox:latest\n    networks:\n      n1:\n        aliases: [x]\n", 6, 9, "per-network settings"),
    ("services:\n  a:\n    image: busybox:latest\n    depends_on:\n      b:\n        condition: service_healthy\n  b:\n    image: busybox:latest\n", 6, 20, "`condition: service_healthy` is not supported yet"),
    ("services:\n  web:\n    image: busybox:latest\nnetworks:\n  n1:\n    driver: overlay\n", 6, 13, "network driver `overlay`"),
    ("services:\n  web:\n    image: busybox:latest\nnetworks:\n  n1:\n    attachable: true\n", 6, 5, "network key `attachable`"),
    ("services:\n  web:\n    image: busybox:latest\nvolumes:\n  v:\n    driver_opts: {}\n", 6, 5, "volume key `driver_opts`"),
  ])
  func unsupportedKeysAreRefusedWhereTheyAre(_ text: String, _ line: Int, _ column: Int, _ words: String) {
    guard let e = failure(text) else { return }
    #expect(e.kind == .unsupported, "\(e)")
    #expect(e.at == ComposePosition(file: "compose.yaml", line: line, column: column), "\(e)")
    #expect(e.message.contains(words), "\(e)")
    #expect(e.description.hasPrefix("compose.yaml:\(line):\(column): "))
  }

  @Test func restartAndHealthcheckBecomeRunsFlags() throws {
    let file = try parse("""
      services:
        web:
          image: busybox:latest
          restart: on-failure:3
          healthcheck:
            test: ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"]
            interval: 1m30s
            timeout: 5s
            retries: 5
            start_period: 500ms
        worker:
          image: busybox:latest
          restart: unless-stopped
          healthcheck:
            test: [CMD, test, -e, /tmp/ready]
        plain:
          image: busybox:latest
          restart: "no"
          healthcheck:
            disable: true
      """)
    let byName = Dictionary(uniqueKeysWithValues: file.services.map { ($0.name, $0.lifecycle) })
    #expect(byName["web"]?.restart?.mode == "on-failure" && byName["web"]?.restart?.maxRetries == 3)
    let web = try #require(byName["web"]?.health)
    #expect(web.command == ["/bin/sh", "-c", "wget -q -O- http://localhost/ || exit 1"])
    #expect(web.intervalMs == 90_000 && web.timeoutMs == 5_000 && web.retries == 5 && web.startPeriodMs == 500)
    #expect(byName["worker"]?.restart?.mode == "always")  // unless-stopped, as `run --restart` takes it
    #expect(byName["worker"]?.health?.command == ["test", "-e", "/tmp/ready"])
    #expect(byName["worker"]?.health?.intervalMs == 30_000 && byName["worker"]?.health?.retries == 3)  // Docker's defaults
    #expect(byName["plain"] == ComposeLifecycle())

    // A changed policy changes the service's settings, so a second `up` replaces it.
    let plan = { (restart: String) in
      try StackPlan.make(
        try self.parse("services:\n  app:\n    image: busybox:latest\n    restart: \(restart)\n"), project: "p1",
        projectDir: "/", existingSubnets: [:])
    }
    #expect(try plan("always").services[0].environment["XCSH_STACK_HASH"] != plan("on-failure").services[0].environment["XCSH_STACK_HASH"])
    #expect(try plan("always").services[0].restart?.mode == "always")

    for (text, words) in [
      ("restart: sometimes", "`restart:` expects no, always"),
      ("healthcheck:\n      interval: 5s", "`healthcheck:` needs `test:`"),
      ("healthcheck:\n      test: [CMD]", "`healthcheck.test` list starts with CMD"),
      ("healthcheck:\n      test: true\n      interval: soon", "`healthcheck.interval`: expected a duration"),
    ] {
      let e = failure("services:\n  web:\n    image: busybox:latest\n    \(text)\n")
      #expect(e?.kind == .invalid && e?.message.contains(words) == true, "\(String(describing: e))")
    }
  }

  @Test func interpolation() throws {
    let vars = ["TAG": "1.2", "EMPTY": "", "PORT": "8080"]
    #expect(try ComposeInterpolation.expand("busybox:${TAG}", vars) == "busybox:1.2")
    #expect(try ComposeInterpolation.expand("$PORT:80", vars) == "8080:80")
    #expect(try ComposeInterpolation.expand("${MISSING:-d}/${EMPTY:-e}/${EMPTY-f}/${MISSING-g}", vars) == "d/e//g")
    #expect(try ComposeInterpolation.expand("${TAG:+set}${MISSING:+no}${EMPTY+yes}", vars) == "setyes")
    #expect(try ComposeInterpolation.expand("cost $$5 ${MISSING:-${TAG}}", vars) == "cost $5 1.2")
    #expect(throws: ComposeInterpolation.Failure.self) { try ComposeInterpolation.expand("${MISSING}", vars) }
    #expect(throws: ComposeInterpolation.Failure.self) { try ComposeInterpolation.expand("${EMPTY:?needs a value}", vars) }
    #expect(throws: ComposeInterpolation.Failure.self) { try ComposeInterpolation.expand("${TAG", vars) }
    #expect(throws: ComposeInterpolation.Failure.self) { try ComposeInterpolation.expand("a $ b", vars) }

    let f = try parse("services:\n  web:\n    image: \"busybox:${TAG:-latest}\"\n    ports: [\"${PORT}:80\"]\n", vars)
    #expect(f.services[0].image == "busybox:1.2" && f.services[0].ports[0].value == "8080:80")
    // An unset variable is an error at the value that names it.
    let e = failure("services:\n  web:\n    image: busybox:latest\n    environment:\n      A: ${NOPE}\n", vars)
    #expect(e?.kind == .invalid && e?.at.line == 5 && e?.at.column == 10)
    #expect(e?.message.contains("`NOPE` is not set") == true)
  }

  @Test func badFilesSayWhere() {
    #expect(failure("services: [\n")?.kind == .invalid)
    #expect(failure("services:\n  web:\n    command: true\n")?.message.contains("neither `image:` nor `build:`") == true)
    #expect(failure("- a\n- b\n")?.message.contains("a mapping with `services:`") == true)
    #expect(failure("name: x\n")?.message.contains("no services") == true)
  }

  @Test func planRefusals() throws {
    func planError(_ text: String, project: String = "p") throws -> ComposeError? {
      do {
        _ = try StackPlan.make(try parse(text), project: project, projectDir: "/d", existingSubnets: [:])
        return nil
      } catch {
        return error
      }
    }
    let cycle = try planError("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n")
    // At the edge that closes the cycle: b's `depends_on: [a]`.
    #expect(cycle?.message.contains("cycle") == true && cycle?.at.line == 7)
    let unknown = try planError("services:\n  a:\n    image: x\n    depends_on: [zz]\n")
    #expect(unknown?.message.contains("no service `zz`") == true && unknown?.at == ComposePosition(file: "compose.yaml", line: 4, column: 18))
    let net = try planError("services:\n  a:\n    image: x\n    networks: [nope]\n")
    #expect(net?.message.contains("`nope`") == true && net?.at.line == 4)
    let vol = try planError("services:\n  a:\n    image: x\n    volumes: [\"data:/d\"]\n")
    #expect(vol?.message.contains("not declared") == true)
    let port = try planError("services:\n  a:\n    image: x\n    ports: [\"80\"]\n")
    #expect(port?.at.line == 4 && port?.kind == .invalid)
    let long = try planError("services:\n  a:\n    image: x\nnetworks:\n  averyveryverylongname: {}\n")
    #expect(long?.message.contains("at most 15") == true && long?.at.line == 5)
    #expect(try planError("services:\n  a:\n    image: x\n", project: "has-dash")?.message.contains("project name") == true)
  }

  @Test func projectNamesFromDirectories() {
    #expect(StackPlan.projectName(fromDirectory: "/home/me/My-App") == "my_app")
    #expect(StackPlan.projectName(fromDirectory: "/srv/stack") == "stack")
    #expect(StackPlan.projectName(fromDirectory: "/") == nil)
    #expect(StackPlan.owns("shop", "shop") && StackPlan.owns("shop", "shop-front") && !StackPlan.owns("shop", "shopx"))
    #expect(ComposeParser.words(#"sh -c 'echo "a b"' x\ y"#) == ["sh", "-c", #"echo "a b""#, "x y"])
    #expect(ComposeParser.words("unclosed 'quote") == nil)
  }
  // MARK: Stack records

  /// A record as `stack up RECORD` gives it: parsed through the YAML it becomes.
  func record(_ r: Value) throws(ComposeError) -> ComposeFile {
    let converted: StackRecord
    do { converted = try StackRecord(r) } catch {
      throw ComposeError(kind: .invalid, at: ComposePosition(file: "stack record", line: 1, column: 1, keyPath: error.keyPath), message: error.message)
    }
    var parser = ComposeParser(file: "stack record", variables: [:], readFile: { _ in nil })
    parser.keyPaths = converted.keyPaths
    return try parser.parse(converted.yaml)
  }

  func rec(_ pairs: [(String, Value)]) -> Value { .record(Record(pairs)) }

  @Test func aRecordIsReadLikeAFile() throws {
    let web = rec([
      ("image", .string("busybox:latest")), ("command", .list([.string("httpd"), .string("-f"), .string("-p"), .string("80")])),
      ("environment", rec([("MODE", .string("a \"quoted\" $HOME\nline")), ("N", .int(3)), ("ON", .bool(true))])),
      ("ports", .list([.string("8080:80")])), ("networks", .list([.string("front")])),
      ("healthcheck", rec([("test", .list([.string("CMD"), .string("true")])), ("interval", Value(.duration(1_500_000_000)))])),
    ])
    let file = try record(rec([
      ("name", .string("shop")), ("services", rec([("web", web)])), ("networks", rec([("front", rec([]))])),
      ("volumes", rec([])),
    ]))
    #expect(file.name == "shop")
    let s = try #require(file.services.first)
    #expect(s.image == "busybox:latest" && s.command == ["httpd", "-f", "-p", "80"])
    // Not interpolated (xcsh already expanded its strings); quotes and newlines survive.
    #expect(s.environment == ["MODE": "a \"quoted\" $HOME\nline", "N": "3", "ON": "true"])
    #expect(s.ports.map(\.value) == ["8080:80"] && s.lifecycle.health?.intervalMs == 1500)
    #expect(file.networks.map(\.key) == ["front"])
  }

  @Test func recordErrorsNameTheKeyPath() {
    func error(_ r: Value) -> ComposeError? {
      do {
        _ = try record(r)
        Issue.record("no error for \(r)")
        return nil
      } catch { return error }
    }
    let svc = { (extra: (String, Value)) in
      self.rec([("name", .string("p")), ("services", self.rec([("web", self.rec([("image", .string("busybox:latest")), extra]))]))])
    }
    let build = error(svc(("working_dir", .string("/srv"))))
    #expect(build?.kind == .unsupported && build?.at.keyPath == "services.web.working_dir", "\(String(describing: build))")
    #expect(build?.description.hasPrefix("stack record at `services.web.working_dir`: `working_dir:` is not supported") == true)
    let port = error(svc(("ports", .list([.string("8080:80"), rec([("target", .int(80))])]))))
    #expect(port?.at.keyPath == "services.web.ports[1]", "\(String(describing: port))")
    let health = error(svc(("healthcheck", rec([("test", .list([.string("CMD"), .string("true")])), ("retries", .int(0))]))))
    #expect(health?.at.keyPath == "services.web.healthcheck.retries", "\(String(describing: health))")
    let closure = error(svc(("user", Value(.datetime(0)))))
    #expect(closure?.at.keyPath == "services.web.user" && closure?.message.contains("cannot be part of a stack") == true)
    #expect(error(.string("x"))?.message.contains("a record with `services:`") == true)
  }

  // MARK: Replicas

  @Test func replicasNameContainersOneToN() throws {
    let text = "services:\n  web:\n    image: busybox:latest\n    deploy:\n      replicas: 3\n  db:\n    image: busybox:latest\n    scale: 0\n  one:\n    image: busybox:latest\n"
    let plan = try StackPlan.make(try parse(text), project: "p", projectDir: "/", existingSubnets: [:])
    #expect(plan.services.map(\.container) == ["p-web-1", "p-web-2", "p-web-3", "p-one-1"])
    #expect(plan.serviceNames == ["web", "db", "one"])
    // Replicas share one settings hash, so scaling never replaces the ones that stay.
    let hashes = Set(plan.services.prefix(3).map { $0.environment["XCSH_STACK_HASH"] })
    #expect(hashes.count == 1 && plan.services[1].hostname == "web")
    let single = try StackPlan.make(try parse("services:\n  web:\n    image: busybox:latest\n"), project: "p", projectDir: "/", existingSubnets: [:])
    #expect(single.services[0].environment["XCSH_STACK_HASH"] == plan.services[0].environment["XCSH_STACK_HASH"])
    let both = try StackPlan.make(try parse("services:\n  w:\n    image: x\n    scale: 2\n    deploy: {replicas: 2}\n"), project: "p", projectDir: "/", existingSubnets: [:])
    #expect(both.services.count == 2)
  }

  @Test func replicaRefusals() throws {
    let conflict: ComposeError?
    do {
      _ = try StackPlan.make(
        try parse("services:\n  web:\n    image: x\n    ports: [\"8080:80\"]\n    scale: 2\n"), project: "p", projectDir: "/", existingSubnets: [:])
      conflict = nil
    } catch { conflict = error }
    #expect(conflict?.message.contains("port conflict") == true && conflict?.at.line == 4, "\(String(describing: conflict))")
    #expect(failure("services:\n  w:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n")?.message.contains("disagree") == true)
    #expect(failure("services:\n  w:\n    image: x\n    scale: many\n")?.at.line == 4)
    #expect(failure("services:\n  w:\n    image: x\n    scale: 101\n")?.message.contains("0 to 100") == true)
    let resources = failure("services:\n  w:\n    image: x\n    deploy:\n      resources: {}\n")
    #expect(resources?.kind == .unsupported && resources?.at == ComposePosition(file: "compose.yaml", line: 5, column: 7))
    #expect(failure("services:\n  w:\n    image: x\n    deploy: {mode: global}\n")?.kind == .unsupported)
  }
  // MARK: Build

  @Test func buildNamesTheImageAndItsContext() throws {
    let text = """
      services:
        app:
          build: ./app
        tool:
          image: registry.local:5000/tools/tool:2
          build:
            context: src
            dockerfile: Other.jailfile
            args: {VERSION: "1.2"}
      """
    let plan = try StackPlan.make(try parse(text), project: "p", projectDir: "/srv/proj", existingSubnets: [:])
    let app = try #require(plan.services.first)
    #expect(app.image == "p-app:latest")
    #expect(app.build == StackPlan.Build(context: "/srv/proj/app", dockerfile: nil, args: [:], name: "p-app", tag: "latest", at: app.build!.at))
    let tool = plan.services[1]
    #expect(tool.image == "registry.local:5000/tools/tool:2")
    #expect(tool.build?.name == "registry.local:5000/tools/tool" && tool.build?.tag == "2")
    #expect(tool.build?.context == "/srv/proj/src" && tool.build?.dockerfile == "Other.jailfile" && tool.build?.args == ["VERSION": "1.2"])
    #expect(StackPlan.split(reference: "host:5000/x") == ("host:5000/x", "latest"))
    #expect(failure("services:\n  a:\n    command: x\n")?.message.contains("neither `image:` nor `build:`") == true)
    #expect(failure("services:\n  a:\n    build: [x]\n")?.at.line == 3)
  }
}
