import NIOCore
import NIOEmbedded
import NIOHTTP1
import PortcullisCore
import PortcullisDataPath

/// Upstream connections in memory, for the proxy handler on `EmbeddedChannel`s: each is an
/// embedded channel with the same HTTP client codec as a real upstream connection. A test (or
/// the fuzzer) reads the bytes the gateway sent on each and writes the upstream's answers.
package final class InMemoryUpstreams: UpstreamConnector {
    package final class Connection {
        package let channel: EmbeddedChannel
        let connection: UpstreamConnection
        /// Every byte the gateway sent on this connection.
        package private(set) var received: [UInt8] = []
        /// Requests already answered by ``InMemoryUpstreams/answerCompleteRequests(_:)``.
        package var answered = 0

        init(channel: EmbeddedChannel, connection: UpstreamConnection) {
            self.channel = channel
            self.connection = connection
        }

        /// Moves what the gateway wrote into ``received``.
        package func collect() {
            while let data = try? channel.readOutbound(as: IOData.self) {
                switch data {
                case .byteBuffer(let buffer): received.append(contentsOf: buffer.readableBytesView)
                case .fileRegion: break
                }
            }
        }

        /// The upstream sends these bytes.
        package func send(_ text: String) {
            _ = try? channel.writeInbound(ByteBuffer(string: text))
        }

        package var isActive: Bool { channel.isActive }
    }

    package let loop: EmbeddedEventLoop
    package private(set) var connections: [Connection] = []
    private var idle: [UpstreamConnection] = []
    /// When set, `acquire` fails as if nothing listened.
    package var refuseConnections = false

    package init(loop: EmbeddedEventLoop) {
        self.loop = loop
    }

    package func acquire(
        _ target: UpstreamTarget, fresh: Bool, completion: @escaping (Result<UpstreamConnection, any Error>, _ reused: Bool) -> Void
    ) {
        if refuseConnections {
            completion(.failure(ChannelError.connectTimeout(.seconds(1))), false)
            return
        }
        if !fresh, let index = idle.lastIndex(where: { $0.key == UpstreamPool.Key(target) && $0.isActive }) {
            completion(.success(idle.remove(at: index)), true)
            return
        }
        let channel = EmbeddedChannel(loop: loop)
        let handler = UpstreamConnectionHandler()
        do {
            try channel.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes, enableOutboundHeaderValidation: false)
            try channel.pipeline.syncOperations.addHandler(handler)
            channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: target.upstream.port), promise: nil)
        } catch {
            completion(.failure(error), false)
            return
        }
        let connection = UpstreamConnection(key: UpstreamPool.Key(target), channel: channel, handler: handler)
        connections.append(Connection(channel: channel, connection: connection))
        completion(.success(connection), false)
    }

    package func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.handler.setReadsAllowed(true)
        if reusable, connection.isActive {
            idle.append(connection)
        } else {
            connection.channel.close(promise: nil)
        }
    }

    /// Collects what every connection received and answers each complete request it has not
    /// answered yet with `200 OK` and a small body, as a well-behaved upstream would.
    package func answerCompleteRequests(_ body: String = "ok") {
        for connection in connections where connection.isActive {
            connection.collect()
            let parsed = UpstreamRequestParser.parse(connection.received)
            guard parsed.violations.isEmpty else { continue }
            while connection.answered < parsed.requests.count {
                let request = parsed.requests[connection.answered]
                connection.answered += 1
                if request.method == "HEAD" {
                    connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
                } else {
                    connection.send("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                }
            }
        }
    }

    /// Everything every connection received, parsed as an upstream would.
    package func parsed() -> [UpstreamRequestParser.Result] {
        connections.map { connection in
            connection.collect()
            return UpstreamRequestParser.parse(connection.received)
        }
    }
}
