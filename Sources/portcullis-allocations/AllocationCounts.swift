import Foundation
import MallocInterposerSwift
import NIOCore
import NIOEmbedded
import PortcullisCore
import PortcullisDataPath
import PortcullisDataPathTesting

/// Allocations per proxied request, for each way a request can be identified, through the
/// data path's real HTTP/1.1 pipeline in memory (NIO's decoder and encoder, the proxy handler,
/// the upstream client codec on embedded channels) with the real authenticators over a real
/// SQLite store, the real identity headers and assertion, Prometheus metrics and the JSON
/// access log. Counted by ordo-one/malloc-interposer, so it must run preloaded:
///
///     LD_PRELOAD=.build/release/libMallocInterposerSwift.so .build/release/portcullis-allocations
///
/// Prints one line per mode: `mode allocations-per-request bytes-per-request`. Options:
/// `--requests N` (default 2000) and `--mode NAME` (repeatable; default every mode).
@main
enum AllocationCounts {
    static func main() async throws {
        var requests = 2_000
        var modes: [AllocationMode] = []
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            switch argument {
            case "--requests":
                guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else { throw UsageError("--requests needs a positive number") }
                requests = value
            case "--mode":
                guard let name = arguments.popFirst(), let mode = AllocationMode(rawValue: name) else {
                    throw UsageError("--mode is one of \(AllocationMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                modes.append(mode)
            default:
                throw UsageError("unknown argument \(argument)")
            }
        }
        if modes.isEmpty { modes = AllocationMode.allCases }
        let setup = try await AllocationSetup.make()
        defer { setup.remove() }
        for mode in modes {
            let counts = try setup.count(mode, requests: requests)
            print("\(mode.rawValue) \(counts.allocations) \(counts.bytes)")
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// The ways a request is identified, each on the route that needs it.
enum AllocationMode: String, CaseIterable {
    /// No credential, a `public` route.
    case `public`
    /// A session cookie on an `authenticated` route.
    case cookie
    /// A session cookie on a `{permission: teammates.view}` route.
    case permission
    /// An RS256 bearer JWT on an `authenticated` route that allows bearers.
    case bearer
    /// An API token on the same route.
    case apitoken
}

/// What one mode costs: allocations and bytes allocated, per request, rounded up.
struct AllocationCount {
    var allocations: Int
    var bytes: Int
}

extension AllocationSetup {
    /// Sends `requests` keep-alive requests on one connection after a warm-up, the upstream
    /// answering each with a 100-byte body, and counts what the whole exchange allocates.
    func count(_ mode: AllocationMode, requests: Int) throws -> AllocationCount {
        let gateway = makeGateway()
        let client = try gateway.connect(from: IPAddress(ipv4: 127, 0, 0, 1))
        let request = ByteBuffer(string: requestText(mode))
        let response = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n" + String(repeating: "x", count: 100))
        func exchange() throws -> Bool {
            try client.channel.writeInbound(request)
            guard let upstream = gateway.upstreams.connections.last?.channel else { return false }
            while try upstream.readOutbound(as: IOData.self) != nil {}
            try upstream.writeInbound(response)
            var sawAnswer = false
            while let data = try client.channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let buffer) = data, buffer.readableBytesView.starts(with: "HTTP/1.1 200".utf8) { sawAnswer = true }
            }
            return sawAnswer
        }
        for _ in 0..<50 {
            guard try exchange() else {
                throw AllocationCounts.UsageError("mode \(mode.rawValue) was not answered 200: \(client.text.prefix(400))")
            }
        }
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        for _ in 0..<requests { _ = try exchange() }
        MallocInterposerSwift.unhook()
        let statistics = MallocInterposerSwift.getStatistics()
        _ = try client.channel.finish(acceptAlreadyClosed: true)
        return AllocationCount(
            allocations: (statistics.mallocCount + requests - 1) / requests,
            bytes: (statistics.mallocBytesCount + requests - 1) / requests
        )
    }

    func requestText(_ mode: AllocationMode) -> String {
        let common = "Host: localhost\r\nUser-Agent: wrk\r\nAccept: */*\r\n"
        switch mode {
        case .public: return "GET /public/ HTTP/1.1\r\n" + common + "\r\n"
        case .cookie: return "GET /app/ HTTP/1.1\r\n" + common + "Cookie: __Host-portcullis=\(cookie)\r\n\r\n"
        case .permission: return "GET /admin/ HTTP/1.1\r\n" + common + "Cookie: __Host-portcullis=\(cookie)\r\n\r\n"
        case .bearer: return "GET /api/ HTTP/1.1\r\n" + common + "Authorization: Bearer \(bearer)\r\n\r\n"
        case .apitoken: return "GET /api/ HTTP/1.1\r\n" + common + "Authorization: Bearer \(apiToken)\r\n\r\n"
        }
    }
}
