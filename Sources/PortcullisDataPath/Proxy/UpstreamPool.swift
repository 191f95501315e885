import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PortcullisCore

/// Where the proxy gets its upstream connections (a pool on its event loop, or a test's
/// in-memory channels). Called on the client's event loop; completions run there too.
package protocol UpstreamConnector: AnyObject {
    /// An idle connection (unless `fresh`), or a new one. `reused` says it served before.
    func acquire(
        _ target: UpstreamTarget, fresh: Bool, completion: @escaping (Result<UpstreamConnection, any Error>, _ reused: Bool) -> Void
    )
    /// Returns a connection after a complete exchange; closes it if it cannot be reused.
    func release(_ connection: UpstreamConnection, reusable: Bool)
}

/// Keep-alive connections to upstreams, one pool per event loop so a request and its upstream
/// connection share a thread and nothing is locked. Used only on its event loop.
package final class UpstreamPool: UpstreamConnector {
    package struct Key: Hashable {
        package let upstream: Upstream
        /// The TLS trust for https upstreams, by identity; `nil` for http.
        let tlsIdentity: ObjectIdentifier?

        package init(upstream: Upstream, tls: NIOSSLContext?) {
            self.upstream = upstream
            self.tlsIdentity = tls.map(ObjectIdentifier.init)
        }

        package init(_ target: UpstreamTarget) {
            self.init(upstream: target.upstream, tls: target.tls)
        }
    }

    struct ConnectError: Error, CustomStringConvertible {
        let upstream: Upstream
        let underlying: any Error
        var description: String { "cannot connect to \(upstream): \(underlying)" }
    }

    let eventLoop: any EventLoop
    private var idle: [Key: [UpstreamConnection]] = [:]
    /// Idle connections kept per upstream.
    let maximumIdlePerUpstream: Int
    /// Idle connections older than this are closed rather than reused.
    let idleTimeout: TimeAmount
    private var sweepTask: Scheduled<Void>?

    init(eventLoop: any EventLoop, maximumIdlePerUpstream: Int = 256, idleTimeout: TimeAmount = .seconds(30)) {
        self.eventLoop = eventLoop
        self.maximumIdlePerUpstream = maximumIdlePerUpstream
        self.idleTimeout = idleTimeout
    }

    /// An idle connection (unless `fresh`), or a new one; `completion` runs on this pool's
    /// event loop.
    package func acquire(
        _ target: UpstreamTarget, fresh: Bool, completion: @escaping (Result<UpstreamConnection, any Error>, _ reused: Bool) -> Void
    ) {
        eventLoop.preconditionInEventLoop()
        let key = Key(target)
        let now = NIODeadline.now()
        while !fresh, let connection = idle[key]?.popLast() {
            if connection.isActive, now - connection.idleSince < idleTimeout {
                connection.handler.idlePool = nil
                completion(.success(connection), true)
                return
            }
            connection.channel.close(promise: nil)
        }
        connect(key: key, tls: target.tls, connectTimeout: target.connectTimeout) { completion($0, false) }
    }

    /// Returns a connection after a complete exchange; closes it if it cannot be reused.
    package func release(_ connection: UpstreamConnection, reusable: Bool) {
        eventLoop.preconditionInEventLoop()
        connection.handler.receiver = nil
        connection.handler.setReadsAllowed(true)
        guard reusable, connection.isActive, (idle[connection.key]?.count ?? 0) < maximumIdlePerUpstream else {
            connection.channel.close(promise: nil)
            return
        }
        connection.requestCount += 1
        connection.idleSince = .now()
        connection.handler.idlePool = self
        idle[connection.key, default: []].append(connection)
        scheduleSweep()
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        sweepTask?.cancel()
        for connections in idle.values {
            for connection in connections { connection.channel.close(promise: nil) }
        }
        idle.removeAll()
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// An idle connection closed by the upstream leaves the pool.
    func idleConnectionClosed(_ handler: UpstreamConnectionHandler) {
        for (key, connections) in idle where connections.contains(where: { $0.handler === handler }) {
            let remaining = connections.filter { $0.handler !== handler }
            idle[key] = remaining.isEmpty ? nil : remaining
        }
    }

    private func connect(
        key: Key,
        tls: NIOSSLContext?,
        connectTimeout: TimeAmount,
        completion: @escaping (Result<UpstreamConnection, any Error>) -> Void
    ) {
        let upstream = key.upstream
        let serverHostname = (try? IPAddress(parsing: upstream.host)) == nil ? upstream.host : nil
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    try sync.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes, enableOutboundHeaderValidation: false)
                    try sync.addHandler(UpstreamConnectionHandler())
                }
            }
        bootstrap.connect(host: upstream.host, port: upstream.port).assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                completion(.failure(ConnectError(upstream: upstream, underlying: error)))
            case .success(let channel):
                do {
                    let handler = try channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self)
                    completion(.success(UpstreamConnection(key: key, channel: channel, handler: handler)))
                } catch {
                    channel.close(promise: nil)
                    completion(.failure(ConnectError(upstream: upstream, underlying: error)))
                }
            }
        }
    }

    private func scheduleSweep() {
        guard sweepTask == nil else { return }
        sweepTask = eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
            guard let self else { return }
            self.sweepTask = nil
            let now = NIODeadline.now()
            for (key, connections) in self.idle {
                let (keep, expired) = connections.reduce(into: ([UpstreamConnection](), [UpstreamConnection]())) {
                    if now - $1.idleSince < self.idleTimeout { $0.0.append($1) } else { $0.1.append($1) }
                }
                for connection in expired { connection.channel.close(promise: nil) }
                self.idle[key] = keep.isEmpty ? nil : keep
            }
            if !self.idle.isEmpty { self.scheduleSweep() }
        }
    }
}
