import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PortcullisControlPlane
import PortcullisCore
import Synchronization
import Testing

/// The session risk webhook against a real loopback receiver that can fail on purpose:
/// retries with backoff, refusals, giving up, and the bounded queue.
@Suite("Suspicious sessions: the webhook")
struct SessionRiskAlertsTests {
    static let secret = SymmetricKey(data: Data("a webhook secret of at least 32 characters".utf8))

    static func alert(_ id: String) -> SessionRiskAlert {
        let hash = SessionIDHash(bytes: Array(repeating: 7, count: 32))!
        let flag = SessionFlag(
            id: id, sessionIDHash: hash, userID: "u-1",
            evidence: .newCountry(.init(place: ObservedPlace(countryCode: "DE", city: "Berlin"), knownCountries: ["AU"], windowSeconds: 7_776_000)),
            action: .flag, raisedAt: Date(timeIntervalSince1970: 1_800_000_000)
        )
        return SessionRiskAlert(flag: flag, email: "ada@example.com", revoked: false, awaitsStepUp: false)
    }

    static func alerts(port: Int, capacity: Int = 100, attempts: Int = 4) throws -> SessionRiskAlerts {
        try SessionRiskAlerts(
            settings: .init(
                url: "http://127.0.0.1:\(port)/hook", secret: secret, capacity: capacity, attempts: attempts,
                backoff: .milliseconds(50), maximumBackoff: .milliseconds(200), timeout: .seconds(5)
            ),
            logger: Logger(label: "test.alerts", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    static func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(20)) }
    }

    @Test("a failing receiver is tried again with growing waits; every try is signed over the exact body")
    func retries() async throws {
        let receiver = try await FlakyReceiver.start(failures: 2, status: .serviceUnavailable)
        defer { Task { await receiver.close() } }
        let alerts = try Self.alerts(port: receiver.port)
        let running = Task { try await alerts.run() }
        defer { running.cancel() }
        alerts.enqueue(Self.alert("a1"))
        try await Self.waitFor { alerts.counts.delivered == 1 }
        let received = receiver.received
        #expect(received.count == 3)
        #expect(alerts.counts == .init(delivered: 1, dropped: 0, failed: 0))
        for request in received {
            let signature = request.headers.first(name: "x-portcullis-signature") ?? ""
            #expect(signature == SessionRiskAlerts.signature(of: Data(request.body), secret: Self.secret))
            #expect(request.headers.first(name: "content-type") == "application/json")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(body["id"] as? String == "a1")
            #expect(body["reason"] as? String == "Berlin, DE: no sign-in from DE in the last 90 days (known: AU)")
        }
        #expect(received.map { $0.headers.first(name: "x-portcullis-delivery") ?? "" } == ["a1.1", "a1.2", "a1.3"])
        let gaps = zip(received.dropFirst(), received).map { $0.at.timeIntervalSince($1.at) }
        #expect(gaps[0] >= 0.045, "\(gaps)")
        #expect(gaps[1] >= 0.095, "the wait doubles: \(gaps)")
    }

    @Test("a receiver that refuses the alert (4xx) is not asked again; 429 is tried again")
    func refusal() async throws {
        let refusing = try await FlakyReceiver.start(failures: 100, status: .badRequest)
        defer { Task { await refusing.close() } }
        let alerts = try Self.alerts(port: refusing.port)
        let running = Task { try await alerts.run() }
        defer { running.cancel() }
        alerts.enqueue(Self.alert("r1"))
        try await Self.waitFor { alerts.counts.failed == 1 }
        try await Task.sleep(for: .milliseconds(150))
        #expect(refusing.received.count == 1)

        let busy = try await FlakyReceiver.start(failures: 1, status: .tooManyRequests)
        defer { Task { await busy.close() } }
        let second = try Self.alerts(port: busy.port)
        let secondRunning = Task { try await second.run() }
        defer { secondRunning.cancel() }
        second.enqueue(Self.alert("r2"))
        try await Self.waitFor { second.counts.delivered == 1 }
        #expect(busy.received.count == 2)
    }

    @Test("it gives up after the configured tries, and the next alert is still sent")
    func givesUp() async throws {
        let receiver = try await FlakyReceiver.start(failures: 3, status: .internalServerError)
        defer { Task { await receiver.close() } }
        let alerts = try Self.alerts(port: receiver.port, attempts: 3)
        let running = Task { try await alerts.run() }
        defer { running.cancel() }
        alerts.enqueue(Self.alert("g1"))
        alerts.enqueue(Self.alert("g2"))
        try await Self.waitFor { alerts.counts.delivered == 1 }
        #expect(alerts.counts == .init(delivered: 1, dropped: 0, failed: 1))
        #expect(receiver.received.map { $0.headers.first(name: "x-portcullis-delivery") ?? "" } == ["g1.1", "g1.2", "g1.3", "g2.1"])
    }

    @Test("the queue is bounded: when it is full the oldest alerts are dropped and counted; enqueueing never waits")
    func boundedQueue() async throws {
        let receiver = try await FlakyReceiver.start(failures: 0, status: .ok)
        defer { Task { await receiver.close() } }
        let alerts = try Self.alerts(port: receiver.port, capacity: 3)
        // Nothing delivers yet: the receiver could be down for hours.
        let started = ContinuousClock.now
        for index in 1...5_000 { alerts.enqueue(Self.alert("q\(index)")) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(alerts.counts.dropped == 4_997)
        let running = Task { try await alerts.run() }
        defer { running.cancel() }
        try await Self.waitFor { alerts.counts.delivered == 3 }
        let ids = receiver.received.compactMap { request in
            (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?["id"] as? String
        }
        #expect(ids == ["q4998", "q4999", "q5000"], "the newest are kept")
    }

    @Test("the signature is HMAC-SHA256 of the body, hex, as documented")
    func signatureFormat() {
        let body = Data(#"{"id":"x"}"#.utf8)
        let key = SymmetricKey(data: Data("key".utf8))
        // printf '{"id":"x"}' | openssl dgst -sha256 -hmac key
        let expected = HMAC<SHA256>.authenticationCode(for: body, using: key).map { String(format: "%02x", $0) }.joined()
        #expect(SessionRiskAlerts.signature(of: body, secret: key) == "sha256=" + expected)
        #expect(SessionRiskAlerts.signature(of: body, secret: key).count == 7 + 64)
    }
}

/// A loopback HTTP/1.1 receiver that answers `status` to the first `failures` requests and
/// `200 OK` after, recording each request with when it arrived.
final class FlakyReceiver: Sendable {
    struct Received: Sendable {
        var headers: HTTPHeaders
        var body: [UInt8]
        var at: Date
    }

    let channel: any Channel
    let port: Int
    private let log = Mutex<[Received]>([])
    private let remainingFailures: Atomic<Int>
    let failureStatus: HTTPResponseStatus

    private init(channel: any Channel, failures: Int, status: HTTPResponseStatus) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.remainingFailures = Atomic(failures)
        self.failureStatus = status
    }

    static func start(failures: Int, status: HTTPResponseStatus) async throws -> FlakyReceiver {
        let box = Mutex<FlakyReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    guard let receiver = box.withLock({ $0 }) else { return }
                    try channel.pipeline.syncOperations.addHandler(FlakyHandler(receiver: receiver))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let receiver = FlakyReceiver(channel: channel, failures: failures, status: status)
        box.withLock { $0 = receiver }
        return receiver
    }

    var received: [Received] { log.withLock { $0 } }

    fileprivate func record(_ request: Received) -> HTTPResponseStatus {
        log.withLock { $0.append(request) }
        let left = remainingFailures.wrappingSubtract(1, ordering: .relaxed).oldValue
        return left > 0 ? failureStatus : .ok
    }

    func close() async {
        try? await channel.close()
    }
}

private final class FlakyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let receiver: FlakyReceiver
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(receiver: FlakyReceiver) {
        self.receiver = receiver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            let status = receiver.record(.init(headers: head?.headers ?? [:], body: body, at: Date()))
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
