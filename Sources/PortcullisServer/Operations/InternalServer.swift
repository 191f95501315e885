import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The internal listener (SPEC §6): `/healthz`, `/readyz` and `/metrics`, never on the public
/// listener. Plain HTTP: bind it to loopback or a management network.
package enum InternalServer {
    package static func makeApplication(
        host: String,
        port: Int,
        readiness: Readiness,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        onRunning: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.get("/healthz") { _, _ in
            "ok\n"
        }
        router.get("/readyz") { _, _ -> Response in
            let status = readiness.status
            let body: String
            if status.ready {
                body = "{\"ready\":true}\n"
            } else {
                let data = (try? JSONSerialization.data(withJSONObject: ["ready": false, "waiting_for": status.problems], options: [.sortedKeys])) ?? Data()
                body = String(decoding: data, as: UTF8.self) + "\n"
            }
            return Response(
                status: status.ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body))
            )
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress) },
            logger: logger
        )
    }
}
