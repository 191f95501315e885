import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import PortcullisCore
import ServiceLifecycle
import Synchronization

/// Sends each new flag to `sessions.risk.webhook.url` (SPEC §3): a JSON `POST` whose body is
/// signed with HMAC-SHA256 in `X-Portcullis-Signature: sha256=<hex>`. ``enqueue(_:)`` never
/// waits: alerts wait in a bounded queue (when it is full the oldest is dropped, counted and
/// logged), and this service delivers them one at a time, retrying with exponential backoff.
/// A `2xx` answer delivers; `4xx` other than 408 and 429 gives up at once (the receiver
/// refuses it); anything else, or no answer, is tried again.
package final class SessionRiskAlerts: Service, Sendable {
    package struct Settings: Sendable {
        package var url: String
        package var secret: SymmetricKey
        package var caFile: String?
        /// Alerts held while the receiver is slow or down.
        package var capacity: Int
        /// Tries per alert, the first included.
        package var attempts: Int
        /// The wait before the second try; doubled for each one after, up to `maximumBackoff`.
        package var backoff: Duration
        package var maximumBackoff: Duration
        package var timeout: Duration

        package init(
            url: String, secret: SymmetricKey, caFile: String? = nil, capacity: Int = 1_000, attempts: Int = 6,
            backoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(60), timeout: Duration = .seconds(10)
        ) {
            self.url = url
            self.secret = secret
            self.caFile = caFile
            self.capacity = capacity
            self.attempts = attempts
            self.backoff = backoff
            self.maximumBackoff = maximumBackoff
            self.timeout = timeout
        }
    }

    package static let signatureHeader = "X-Portcullis-Signature"
    package static let deliveryHeader = "X-Portcullis-Delivery"

    private let settings: Settings
    private let client: HTTPClient.Configuration
    private let stream: AsyncStream<SessionRiskAlert>
    private let continuation: AsyncStream<SessionRiskAlert>.Continuation
    private let counters = Mutex(Counters())
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let onOutcome: @Sendable (Outcome) -> Void

    package struct Counters: Hashable, Sendable {
        package var delivered = 0
        package var dropped = 0
        package var failed = 0

        package init(delivered: Int = 0, dropped: Int = 0, failed: Int = 0) {
            self.delivered = delivered
            self.dropped = dropped
            self.failed = failed
        }
    }

    /// - Parameter onOutcome: told what became of each alert (metrics).
    package init(
        settings: Settings, logger: Logger, now: @escaping @Sendable () -> Date = { Date() },
        onOutcome: @escaping @Sendable (Outcome) -> Void = { _ in }
    ) throws {
        self.settings = settings
        self.logger = logger
        self.now = now
        self.onOutcome = onOutcome
        var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let caFile = settings.caFile {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(10)),
            decompression: .disabled
        )
        configuration.httpVersion = .automatic
        client = configuration
        (stream, continuation) = AsyncStream.makeStream(of: SessionRiskAlert.self, bufferingPolicy: .bufferingNewest(max(1, settings.capacity)))
    }

    /// Queues an alert; never waits. When the queue is full the oldest alert is dropped.
    package func enqueue(_ alert: SessionRiskAlert) {
        switch continuation.yield(alert) {
        case .dropped(let oldest):
            let dropped = counters.withLock { counters in
                counters.dropped += 1
                return counters.dropped
            }
            onOutcome(.dropped)
            // The first drop and every hundredth after it: a flood of alerts is not a flood of logs.
            if dropped == 1 || dropped % 100 == 0 {
                logger.warning("session risk webhook queue full: the oldest alerts are being dropped", metadata: [
                    "flag": "\(oldest.flag.id)", "dropped_total": "\(dropped)", "capacity": "\(settings.capacity)",
                ])
            }
        case .terminated:
            logger.notice("session risk webhook stopped: alert not sent", metadata: ["flag": "\(alert.flag.id)"])
        case .enqueued:
            break
        @unknown default:
            break
        }
    }

    /// Delivered, dropped (queue full) and failed (given up) alerts since start.
    package var counts: Counters { counters.withLock { $0 } }

    /// `sha256=<hex HMAC-SHA256(body)>`, as receivers must compute it (constant-time compare).
    package static func signature(of body: Data, secret: SymmetricKey) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: secret).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// The HTTP client lives as long as this runs: nothing is left to shut down when it never ran.
    package func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
        await withGracefulShutdownHandler {
            for await alert in stream {
                await deliver(alert, with: http)
            }
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
        try? await http.shutdown()
    }

    /// Tries until delivered, refused, out of tries or shut down.
    func deliver(_ alert: SessionRiskAlert, with http: HTTPClient) async {
        var wait = settings.backoff
        for attempt in 1...max(1, settings.attempts) {
            let outcome = await post(alert, attempt: attempt, with: http)
            switch outcome {
            case .delivered:
                counters.withLock { $0.delivered += 1 }
                onOutcome(.delivered)
                return
            case .refused(let status):
                counters.withLock { $0.failed += 1 }
                onOutcome(.failed)
                logger.warning("session risk webhook refused the alert; not retried", metadata: [
                    "flag": "\(alert.flag.id)", "status": "\(status)",
                ])
                return
            case .retry(let reason):
                logger.notice("session risk webhook delivery failed", metadata: [
                    "flag": "\(alert.flag.id)", "attempt": "\(attempt)", "reason": "\(reason)",
                ])
            }
            guard attempt < settings.attempts else { break }
            do {
                // Shutdown ends the wait at once: what is left is not sent.
                let pause = wait
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                break
            }
            wait = min(wait * 2, settings.maximumBackoff)
        }
        counters.withLock { $0.failed += 1 }
        onOutcome(.failed)
        logger.warning("session risk webhook gave up on an alert", metadata: ["flag": "\(alert.flag.id)"])
    }

    /// What became of an alert, for metrics.
    package enum Outcome: String, Sendable, CaseIterable {
        case delivered
        case dropped
        case failed
    }

    /// What one try came to.
    enum Attempt {
        case delivered
        case refused(UInt)
        case retry(String)
    }

    private func post(_ alert: SessionRiskAlert, attempt: Int, with http: HTTPClient) async -> Attempt {
        let body = alert.body(sentAt: now())
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Portcullis")
        request.headers.add(name: Self.signatureHeader, value: Self.signature(of: body, secret: settings.secret))
        request.headers.add(name: Self.deliveryHeader, value: "\(alert.flag.id).\(attempt)")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: .seconds(settings.timeout.components.seconds))
            // The answer is not read beyond a little: a receiver cannot make us hold much.
            _ = try? await response.body.collect(upTo: 64 * 1_024)
            let status = response.status.code
            if (200..<300).contains(status) { return .delivered }
            if (400..<500).contains(status), status != 408, status != 429 { return .refused(status) }
            return .retry("status \(status)")
        } catch {
            return .retry("\(error)")
        }
    }
}
