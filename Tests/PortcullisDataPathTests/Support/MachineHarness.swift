import NIOCore
import NIOHTTP1
@testable import PortcullisDataPath
import PortcullisCore

/// Drives a ``ProxyStateMachine`` with a manual clock and describes its actions as short
/// strings, so a test reads as the transition it checks.
struct MachineHarness {
    /// RFC 6455 §1.3's example key; its accept value is `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
    static let webSocketKey = "dGhlIHNhbXBsZSBub25jZQ=="
    var machine: ProxyStateMachine
    var now: NIODeadline
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    init(http1: Bool = true, configure: (inout ProxyStateMachine.Configuration) -> Void = { _ in }) {
        var configuration = ProxyStateMachine.Configuration(
            isHTTP1: http1,
            idleTimeout: .seconds(75),
            headerTimeout: .seconds(10),
            bodyTimeout: .seconds(60),
            sendTimeout: .seconds(60),
            revalidationInterval: .seconds(2),
            hsts: "max-age=60"
        )
        configure(&configuration)
        machine = ProxyStateMachine(configuration: configuration, client: IPAddress(ipv4: 192, 0, 2, 1), now: Self.start)
        now = Self.start
    }

    mutating func advance(_ amount: TimeAmount) {
        now = now + amount
    }

    @discardableResult
    mutating func run(_ event: (inout ProxyStateMachine, NIODeadline, inout [ProxyAction]) -> Void) -> [String] {
        var actions: [ProxyAction] = []
        event(&machine, now, &actions)
        return actions.map(Self.describe)
    }

    /// The raw actions, for tests that look inside them.
    mutating func runRaw(_ event: (inout ProxyStateMachine, NIODeadline, inout [ProxyAction]) -> Void) -> [ProxyAction] {
        var actions: [ProxyAction] = []
        event(&machine, now, &actions)
        return actions
    }

    // MARK: events

    @discardableResult
    mutating func head(_ method: HTTPMethod = .GET, _ uri: String = "/", headers: [(String, String)] = [("Host", "app.test")],
                       version: HTTPVersion = .http1_1) -> [String] {
        let head = HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
        return run { $0.requestPartReceived(.head(head), now: $1, into: &$2) }
    }

    @discardableResult
    mutating func body(_ text: String) -> [String] {
        run { $0.requestPartReceived(.body(ByteBuffer(string: text)), now: $1, into: &$2) }
    }

    @discardableResult
    mutating func end() -> [String] {
        run { $0.requestPartReceived(.end(nil), now: $1, into: &$2) }
    }

    @discardableResult
    mutating func forward(_ id: UInt64 = 1, method: HTTPMethod = .GET, identity: String? = nil, upgrade: Bool = false) -> [String] {
        let plan = ForwardPlan(
            upstreamHead: HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: ["Host": "upstream"]),
            target: UpstreamTarget(upstream: Upstream(scheme: .http, host: "127.0.0.1", port: 8080), tls: nil,
                                   connectTimeout: .seconds(5), routeName: "app"),
            responseTimeout: .seconds(30),
            webSocketAccept: upgrade ? WebSocketHandshake.accept(forKey: Self.webSocketKey) : nil,
            responseHeaders: [],
            identityUserID: identity,
            log: ExchangeLog(client: IPAddress(ipv4: 192, 0, 2, 1), method: method.rawValue, host: "app.test", path: "/",
                             route: "app", outcome: "allow", reason: "public_route", user: nil)
        )
        return run { $0.decided(ExchangeID(value: id), plan: .forward(plan), now: $1, into: &$2) }
    }

    @discardableResult
    mutating func refuse(_ id: UInt64 = 1, status: HTTPResponseStatus = .unauthorized, reason: String = "login_required") -> [String] {
        let plan = GatewayResponse(
            head: HTTPResponseHead(version: .http1_1, status: status, headers: ["Content-Length": "2"]),
            body: ByteBuffer(string: "{}"),
            log: ExchangeLog(client: IPAddress(ipv4: 192, 0, 2, 1), method: "POST", host: "app.test", path: "/",
                             route: "app", outcome: "unauthenticated", reason: reason, user: nil)
        )
        return run { $0.decided(ExchangeID(value: id), plan: .respond(plan), now: $1, into: &$2) }
    }

    @discardableResult
    mutating func attached(_ id: UInt64 = 1, reused: Bool = false) -> [String] {
        run { $0.upstreamAttached(ExchangeID(value: id), reused: reused, now: $1, into: &$2) }
    }

    @discardableResult
    mutating func response(_ status: HTTPResponseStatus = .ok, headers: [(String, String)] = [("Content-Length", "5")]) -> [String] {
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))
        return run { $0.upstreamResponseHeadReceived(head, now: $1, into: &$2) }
    }

    @discardableResult
    mutating func responseBody(_ text: String) -> [String] {
        run { $0.upstreamResponseBodyReceived(ByteBuffer(string: text), now: $1, into: &$2) }
    }

    @discardableResult
    mutating func responseEnd() -> [String] {
        run { $0.upstreamResponseEndReceived(now: $1, into: &$2) }
    }

    @discardableResult
    mutating func timer() -> [String] {
        run { $0.timerFired(now: $1, into: &$2) }
    }

    /// A complete GET answered 200 with a 5-byte body, on a fresh upstream connection.
    mutating func completeGET(id: UInt64 = 1) {
        head()
        end()
        forward(id)
        attached(id)
        response()
        responseBody("hello")
        responseEnd()
    }

    // MARK: describing actions

    static func describe(_ action: ProxyAction) -> String {
        switch action {
        case .decide(let id, let head, let framing): "decide \(id) \(head.method.rawValue) \(framing)"
        case .connect(let id, _, let fresh): fresh ? "connect \(id) fresh" : "connect \(id)"
        case .writeUpstream(let part): "upstream " + describe(part)
        case .flushUpstream: "flush upstream"
        case .releaseUpstream(let reusable): reusable ? "release reusable" : "release closing"
        case .setUpstreamReads(let allowed): allowed ? "upstream reads on" : "upstream reads off"
        case .writeClient(let part): "client " + describe(part)
        case .writeClientThenClose(let part): "client " + describe(part) + " then close"
        case .flushClient: "flush client"
        case .closeClient: "close client"
        case .read: "read"
        case .startTunnel: "start tunnel"
        case .revalidate(let id, _, let user): "revalidate \(id) \(user)"
        case .log(let record): "log \(record.status) \(record.log.outcome) \(record.log.reason)"
        case .recordUpstreamError(let route, let kind): "upstream error \(route) \(kind)"
        case .droppedOwnCookie(let route): "dropped own cookie \(route)"
        }
    }

    static func describe(_ part: HTTPClientRequestPart) -> String {
        switch part {
        case .head(let head): "head \(head.method.rawValue) \(head.uri)"
        case .body(.byteBuffer(let buffer)): "body \(String(buffer: buffer))"
        case .body: "body"
        case .end: "end"
        }
    }

    static func describe(_ part: HTTPServerResponsePart) -> String {
        switch part {
        case .head(let head):
            let connection = head.headers.first(name: "connection").map { " (\($0))" } ?? ""
            return "head \(head.status.code)\(connection)"
        case .body(.byteBuffer(let buffer)): return "body \(buffer.readableBytes)"
        case .body: return "body"
        case .end: return "end"
        }
    }
}
