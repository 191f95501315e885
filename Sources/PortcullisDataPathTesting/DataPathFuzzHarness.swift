import NIOCore
import PortcullisCore

/// One fuzz input through the data path, in memory: the bytes are what a client sends on one
/// HTTP/1.1 connection, in up to four writes with time passing between them; the upstream
/// answers every request it can parse. Then the invariants are checked
/// (``DataPathInvariants``): the upstream received exactly what the access log shows, framed
/// unambiguously, with no identity header. Used by the libFuzzer target (`fuzz/`) and by a
/// seeded random test in the suite.
package enum DataPathFuzzHarness {
    /// Routes that exercise each kind of decision: forwarded, refused (by greenlist, so the
    /// body is left unread), and refused for want of a sign-in.
    static let routes: [Route] = {
        let upstream = Route.Target.upstream(Upstream(scheme: .http, host: "127.0.0.1", port: 8080))
        return [
            Route(name: "app", prefix: [], target: upstream, requirement: .public),
            Route(name: "office", prefix: ["office"], target: upstream, requirement: .public, greenlist: "office"),
            Route(name: "private", prefix: ["private"], target: upstream, requirement: .authenticated),
            Route(name: "get-only", prefix: ["get"], methods: ["GET", "HEAD"], target: upstream, requirement: .public),
        ]
    }()

    static let limits = ServerLimits(
        maxHeaderBytes: 8_192, headerTimeout: .seconds(10), idleTimeout: .seconds(75), bodyTimeout: .seconds(30),
        sendTimeout: .seconds(60), streamIdleTimeout: .seconds(60)
    )

    /// The invariant violations for one input; empty when the data path kept its promise.
    package static func violations(for input: [UInt8]) -> [String] {
        guard let control = input.first else { return [] }
        let stream = Array(input.dropFirst())
        let gateway = InMemoryGateway(routes: routes, limits: limits)
        let client: InMemoryGateway.Client
        do {
            client = try gateway.connect()
        } catch {
            return ["cannot connect: \(error)"]
        }
        // The control byte says how the stream is cut into writes and whether time passes.
        let pieces = Int(control & 0x03) + 1
        let waits = control & 0x04 != 0
        var offset = 0
        for piece in 0..<pieces {
            let end = piece == pieces - 1 ? stream.count : min(stream.count, offset + stream.count / pieces)
            client.send(Array(stream[offset..<end]))
            offset = end
            gateway.settle()
            if waits { gateway.advanceTime(by: .seconds(6)) }
        }
        gateway.advanceTime(by: .seconds(31))
        gateway.advanceTime(by: .seconds(80))
        return DataPathInvariants.violations(accessLog: gateway.accessLog, upstream: gateway.upstreams.parsed())
    }

    /// The seed inputs: every request of the hostile corpus, as one write.
    package static var seeds: [[UInt8]] {
        HostileRequest.corpus.map { [0] + Array($0.bytes.utf8) }
    }
}
