import NIOCore
import NIOHTTP1
import PortcullisCore

/// One request/response through the proxy, from its head to the end of its response.
final class Exchange {
    let head: HTTPRequestHead
    let started: NIODeadline
    let client: IPAddress
    let snapshot: GatewaySnapshot
    var authentication = Authentication.anonymous
    var decision: AccessDecision?
    var route: Route?
    var upstream: UpstreamConnection?
    /// The head for the upstream, kept for a retry on a fresh connection.
    var upstreamHead: HTTPRequestHead?
    /// Body parts that arrived before the upstream was ready.
    var buffered: [HTTPServerRequestPart] = []
    var requestEnded = false
    var responseHeadSent = false
    var responseEnded = false
    var status: UInt = 0
    var bytesIn = 0
    var bytesOut = 0
    var upstreamKeepAlive = true
    /// When the upstream must have answered by (set once the request is sent).
    var responseDeadline: NIODeadline?
    let isWebSocketUpgrade: Bool
    var reusedConnection = false
    var retried = false
    var reasonOverride: String?
    var outcomeOverride: String?

    init(head: HTTPRequestHead, client: IPAddress, snapshot: GatewaySnapshot) {
        self.head = head
        self.started = .now()
        self.client = client
        self.snapshot = snapshot
        isWebSocketUpgrade = Self.isWebSocketUpgrade(head)
    }

    /// `GET` with `Connection: upgrade` and `Upgrade: websocket`, over HTTP/1.1.
    static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard head.method == .GET, head.version == .http1_1 else { return false }
        let upgrade = head.headers[canonicalForm: "upgrade"].contains { HeaderTokens.equalIgnoringCase($0, "websocket") }
        let connection = head.headers[canonicalForm: "connection"].contains { HeaderTokens.equalIgnoringCase($0, "upgrade") }
        return upgrade && connection
    }

    /// The client's request may carry a body (by its framing headers).
    var requestHasBody: Bool {
        if let length = head.headers.first(name: "content-length"), length != "0" { return true }
        return head.headers.contains(name: "transfer-encoding")
    }
}
